// A byte-level byte-pair-encoding tokenizer (GPT-2 / minbpe style): the 256 bytes
// are tokens 0…255, merge i joins two earlier tokens into token 256 + i. Any input
// encodes (invalid UTF-8 included) and decodes back byte for byte. Training is in
// BPETokenizer+Training.swift, the pre-split into chunks in BPEPreSplit.swift.
import CohortCore

/// Byte-level BPE tokenizer: tokens 0…255 are the bytes; merge `i` makes token `256 + i` from
/// two tokens with smaller ids. Text is first cut into chunks (`BPEPreSplit`) and merges never
/// cross a chunk's boundary, so a word encodes the same wherever it occurs.
public struct BPETokenizer: Sendable, Equatable {
    /// One merge: the pair of token ids it joins, in order.
    public struct Merge: Sendable, Equatable, Hashable {
        public let left: Int32
        public let right: Int32
        public init(_ left: Int32, _ right: Int32) { (self.left, self.right) = (left, right) }
        /// The pair as one dictionary key.
        var key: UInt64 { UInt64(UInt32(left)) << 32 | UInt64(UInt32(right)) }
    }

    /// Largest vocabulary: the serialized form writes an id as four hex digits.
    public static let maxVocabularySize = 1 << 16

    /// The merges in training order; merge `i` makes token `256 + i`.
    public let merges: [Merge]
    /// id → the bytes it stands for.
    private let tokenBytes: [[UInt8]]
    /// Pair key → the id of the token its merge makes (a smaller id is an earlier merge).
    private let ranks: [UInt64: Int32]

    /// A tokenizer with exactly these merges.
    /// - Throws: `CohortError.invalidArgument` when a merge references an id not defined before it
    ///   (merge i may use ids below 256 + i), repeats an earlier merge's pair, or there are more
    ///   than `maxVocabularySize − 256` merges.
    public init(merges: [Merge]) throws {
        guard merges.count <= Self.maxVocabularySize - 256 else {
            throw CohortError.invalidArgument("tokenizer: \(merges.count) merges make more than \(Self.maxVocabularySize) tokens")
        }
        var bytes = (0..<256).map { [UInt8($0)] }
        var ranks: [UInt64: Int32] = [:]
        ranks.reserveCapacity(merges.count)
        for (i, m) in merges.enumerated() {
            let id = 256 + i
            for side in [m.left, m.right] where side < 0 || Int(side) >= id {
                throw CohortError.invalidArgument("tokenizer: merge \(i) (token \(id)) references id \(side), which is not defined before it")
            }
            guard ranks[m.key] == nil else {
                throw CohortError.invalidArgument("tokenizer: merge \(i) (token \(id)) repeats the pair (\(m.left), \(m.right)) of token \(ranks[m.key]!)")
            }
            ranks[m.key] = Int32(id)
            bytes.append(bytes[Int(m.left)] + bytes[Int(m.right)])
        }
        self.merges = merges
        self.tokenBytes = bytes
        self.ranks = ranks
    }

    public static func == (a: BPETokenizer, b: BPETokenizer) -> Bool { a.merges == b.merges }

    /// Number of tokens: 256 + merges.
    public var count: Int { tokenBytes.count }

    /// The bytes token `id` stands for (empty for an id outside the vocabulary).
    public func bytes(of id: Int32) -> [UInt8] { id >= 0 && Int(id) < count ? tokenBytes[Int(id)] : [] }

    /// Token ids of `bytes`: each chunk of the pre-split is encoded once (a chunk seen before reuses
    /// its ids), by merging the pair of lowest rank until no pair of the chunk has a merge.
    public func encode(_ bytes: [UInt8]) -> [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(bytes.count / 2)
        var cache: [ArraySlice<UInt8>: [Int32]] = [:]
        BPEPreSplit.forEachChunk(bytes) { range in
            let chunk = bytes[range]
            if let ids = cache[chunk] {
                out.append(contentsOf: ids)
            } else {
                let ids = encodeChunk(chunk)
                cache[chunk] = ids
                out.append(contentsOf: ids)
            }
        }
        return out
    }

    /// Token ids of `text`'s UTF-8 bytes.
    public func encode(_ text: String) -> [Int32] { encode(Array(text.utf8)) }

    /// One chunk's ids. Applying the lowest-ranked merge present, all its occurrences left to
    /// right, is the same as applying every merge in training order: a merge of lower rank than
    /// the one applied can never appear later (its tokens are older than the new one).
    func encodeChunk(_ chunk: ArraySlice<UInt8>) -> [Int32] {
        var ids = chunk.map { Int32($0) }
        while ids.count > 1 {
            var best = Int32.max
            for i in 0..<(ids.count - 1) {
                if let r = ranks[Merge(ids[i], ids[i + 1]).key], r < best { best = r }
            }
            guard best != .max else { break }
            Self.apply(merges[Int(best) - 256], as: best, to: &ids)
        }
        return ids
    }

    /// Replaces every occurrence of `m`'s pair in `ids`, left to right, by `id`.
    /// - Returns: whether anything changed.
    @discardableResult
    static func apply(_ m: Merge, as id: Int32, to ids: inout [Int32]) -> Bool {
        var write = 0, read = 0
        let n = ids.count
        while read < n {
            if read + 1 < n && ids[read] == m.left && ids[read + 1] == m.right {
                ids[write] = id
                read += 2
            } else {
                ids[write] = ids[read]
                read += 1
            }
            write += 1
        }
        guard write < n else { return false }
        ids.removeLast(n - write)
        return true
    }

    /// The bytes of `ids`, concatenated.
    /// - Throws: `CohortError.invalidArgument` for an id outside the vocabulary.
    public func decodeBytes(_ ids: [Int32]) throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(ids.count * 3)
        for id in ids {
            guard id >= 0 && Int(id) < count else { throw CohortError.invalidArgument("tokenizer: id \(id) outside the vocabulary of \(count) tokens") }
            out.append(contentsOf: tokenBytes[Int(id)])
        }
        return out
    }

    /// The text of `ids` (their bytes decoded as UTF-8, invalid sequences replaced).
    /// - Throws: `CohortError.invalidArgument` for an id outside the vocabulary.
    public func decode(_ ids: [Int32]) throws -> String { String(decoding: try decodeBytes(ids), as: UTF8.self) }

    // MARK: - Serialized form

    /// The prefix of the serialized form (its version is the `1`).
    public static let prefix = "bpe1:"

    /// `bpe1:<tokens>:` and then each merge's two ids as four lower-case hex digits each, for
    /// checkpoint metadata (docs/checkpoint-format.md). The token count makes a cut-off text detectable.
    public var serialized: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = Array("\(Self.prefix)\(count):".utf8)
        out.reserveCapacity(out.count + merges.count * 8)
        for m in merges {
            for id in [m.left, m.right] {
                for shift in stride(from: 12, through: 0, by: -4) { out.append(digits[Int((id >> Int32(shift)) & 15)]) }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A tokenizer from `serialized`.
    /// - Throws: `CohortError.invalidArgument` for another prefix, a missing or impossible token count,
    ///   a text cut short (or too long) for that count, a character that is not a hex digit, and the
    ///   errors of `init(merges:)` (a merge referencing an id not yet defined).
    public init(serialized text: String) throws {
        guard text.hasPrefix(Self.prefix) else {
            throw CohortError.invalidArgument("tokenizer: '\(text.prefix(12))…' does not start with \(Self.prefix)")
        }
        let body = Array(text.utf8.dropFirst(Self.prefix.utf8.count))
        guard let colon = body.firstIndex(of: UInt8(ascii: ":")),
              let tokens = Int(String(decoding: body[..<colon], as: UTF8.self)), tokens >= 256, tokens <= Self.maxVocabularySize else {
            throw CohortError.invalidArgument("tokenizer: \(Self.prefix) must be followed by the token count (256…\(Self.maxVocabularySize)) and ':'")
        }
        let hex = body[(colon + 1)...]
        let expected = (tokens - 256) * 8
        guard hex.count == expected else {
            throw CohortError.invalidArgument("tokenizer: truncated or malformed: \(tokens) tokens need \(tokens - 256) merges "
                                              + "(\(expected) hex digits), the text holds \(hex.count) hex digits")
        }
        var ids: [Int32] = []
        ids.reserveCapacity(hex.count / 4)
        var value: Int32 = 0
        for (i, c) in hex.enumerated() {
            let d: Int32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = Int32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = Int32(c - UInt8(ascii: "a") + 10)
            default: throw CohortError.invalidArgument("tokenizer: merge \(i / 8): '\(Character(UnicodeScalar(c)))' is not a lower-case hex digit")
            }
            value = value << 4 | d
            if i % 4 == 3 { ids.append(value); value = 0 }
        }
        try self.init(merges: stride(from: 0, to: ids.count, by: 2).map { Merge(ids[$0], ids[$0 + 1]) })
    }
}
