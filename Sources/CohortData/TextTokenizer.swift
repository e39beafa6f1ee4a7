// The one tokenizer type text models use: the corpus's byte vocabulary (CharTokenizer,
// the fallback and the form of older checkpoints) or a byte-level BPE (BPETokenizer),
// with the serialized form checkpoints keep as the `tokenizer` model setting, and
// the `cohort train --tokenizer` choice that builds one from a corpus.
import CohortCore

/// A text model's tokenizer: the corpus's distinct bytes, or byte-level BPE.
public enum TextTokenizer: Sendable, Equatable {
    /// One token per distinct byte of the corpus (serialized as hex bytes).
    case bytes(CharTokenizer)
    /// Byte-level BPE (serialized as `bpe1:…`).
    case bpe(BPETokenizer)

    /// Number of tokens (the model's output width).
    public var count: Int {
        switch self {
        case .bytes(let t): t.count
        case .bpe(let t): t.count
        }
    }

    /// Token ids of `bytes`.
    /// - Throws: `CohortError.invalidArgument` (byte vocabularies only) naming a byte outside the vocabulary.
    public func encode(_ bytes: [UInt8]) throws -> [Int32] {
        switch self {
        case .bytes(let t): return try t.encode(bytes)
        case .bpe(let t): return t.encode(bytes)
        }
    }

    /// Token ids of `text`'s UTF-8 bytes.
    /// - Throws: as `encode(_:)` for bytes.
    public func encode(_ text: String) throws -> [Int32] { try encode(Array(text.utf8)) }

    /// The text of `ids` (bytes decoded as UTF-8, invalid sequences replaced).
    /// - Throws: `CohortError.invalidArgument` for an id outside the vocabulary.
    public func decode(_ ids: [Int32]) throws -> String {
        switch self {
        case .bytes(let t): return try t.decode(ids)
        case .bpe(let t): return try t.decode(ids)
        }
    }

    /// Each token's text by id (its bytes as UTF-8; an incomplete or invalid sequence shows as U+FFFD),
    /// for `inference.vocabulary`.
    public var tokenStrings: [String] {
        switch self {
        case .bytes(let t): t.vocabulary.map { String(decoding: [$0], as: UTF8.self) }
        case .bpe(let t): (0..<Int32(t.count)).map { String(decoding: t.bytes(of: $0), as: UTF8.self) }
        }
    }

    /// The checkpoint form: hex bytes for a byte vocabulary (as older checkpoints), `bpe1:…` for BPE.
    public var serialized: String {
        switch self {
        case .bytes(let t): t.serialized
        case .bpe(let t): t.serialized
        }
    }

    /// A tokenizer from its checkpoint form.
    /// - Throws: `CohortError.invalidArgument` for a prefix other than `bpe1:` before a `:` (an unknown
    ///   form), and the errors of `BPETokenizer(serialized:)` and `CharTokenizer(serialized:)`.
    public init(serialized text: String) throws {
        if text.hasPrefix(BPETokenizer.prefix) {
            self = .bpe(try BPETokenizer(serialized: text))
        } else if let colon = text.firstIndex(of: ":") {
            throw CohortError.invalidArgument("tokenizer: unknown form '\(text[..<colon].prefix(16)):' (this cohort reads hex byte vocabularies and \(BPETokenizer.prefix)…)")
        } else {
            self = .bytes(try CharTokenizer(serialized: text))
        }
    }

    /// `bytes (65 tokens)`, `bpe (512 tokens)`.
    public var summary: String {
        switch self {
        case .bytes(let t): "bytes (\(t.count) tokens)"
        case .bpe(let t): "bpe (\(t.count) tokens)"
        }
    }
}

/// How `cohort train` tokenizes a text corpus (`--tokenizer bytes|bpe:N`).
public enum TokenizerChoice: Sendable, Equatable, CustomStringConvertible {
    /// The corpus's distinct bytes.
    case bytes
    /// Byte-level BPE trained on the corpus to `vocabularySize` tokens.
    case bpe(vocabularySize: Int)

    /// `bytes` or `bpe:N`.
    /// - Throws: `CohortError.badFlag(flag: "--tokenizer", …)` for anything else or N outside 257…65536.
    public init(parsing text: String) throws {
        if text == "bytes" { self = .bytes; return }
        guard text.hasPrefix("bpe:"), let n = Int(text.dropFirst(4)) else {
            throw CohortError.badFlag(flag: "--tokenizer", "must be bytes or bpe:N (N tokens, e.g. bpe:2048), got '\(text)'")
        }
        guard n > 256, n <= BPETokenizer.maxVocabularySize else {
            throw CohortError.badFlag(flag: "--tokenizer", "bpe:N needs 257 ≤ N ≤ \(BPETokenizer.maxVocabularySize) (256 byte tokens + merges), got \(n)")
        }
        self = .bpe(vocabularySize: n)
    }

    public var description: String {
        switch self {
        case .bytes: "bytes"
        case .bpe(let n): "bpe:\(n)"
        }
    }

    /// The tokenizer of `corpus`: its byte vocabulary, or BPE trained on it.
    public func build(corpus: [UInt8]) throws -> TextTokenizer {
        switch self {
        case .bytes: return .bytes(CharTokenizer(corpus: corpus))
        case .bpe(let n): return .bpe(try BPETokenizer.train(corpus: corpus, vocabularySize: n))
        }
    }
}
