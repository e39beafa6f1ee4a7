// Text for language models: a character (byte) tokenizer built from a corpus
// and stored with checkpoints, and fixed-length windows of a token stream as a
// dataset of next-token-prediction samples (inputs t₀…t_{T-1}, targets t₁…t_T).
import CohortCore
import CohortTensor
import Foundation

/// Byte-level tokenizer: every distinct byte of the corpus is one token; ids
/// follow byte order, so the same corpus always gives the same ids.
public struct CharTokenizer: Sendable, Equatable {
    /// id → byte.
    public let vocabulary: [UInt8]
    /// byte → id, -1 for bytes outside the vocabulary.
    private let table: [Int16]

    /// The tokenizer of `corpus` (its distinct bytes, sorted).
    public init(corpus: [UInt8]) {
        var seen = [Bool](repeating: false, count: 256)
        for b in corpus { seen[Int(b)] = true }
        try! self.init(vocabulary: (0..<256).filter { seen[$0] }.map { UInt8($0) })
    }

    /// A tokenizer with exactly these tokens, in this order.
    /// - Throws: `CohortError.invalidArgument` for an empty or repeated vocabulary.
    public init(vocabulary: [UInt8]) throws {
        guard !vocabulary.isEmpty else { throw CohortError.invalidArgument("tokenizer: empty vocabulary") }
        var t = [Int16](repeating: -1, count: 256)
        for (i, b) in vocabulary.enumerated() {
            guard t[Int(b)] < 0 else { throw CohortError.invalidArgument("tokenizer: byte \(b) appears twice in the vocabulary") }
            t[Int(b)] = Int16(i)
        }
        self.vocabulary = vocabulary
        table = t
    }

    /// Number of tokens.
    public var count: Int { vocabulary.count }

    /// Token ids of `bytes`.
    /// - Throws: `CohortError.invalidArgument` naming the first byte outside the vocabulary and its position.
    public func encode(_ bytes: [UInt8]) throws -> [Int32] {
        var out = [Int32](repeating: 0, count: bytes.count)
        for (i, b) in bytes.enumerated() {
            let id = table[Int(b)]
            guard id >= 0 else {
                let shown = b >= 32 && b < 127 ? "'\(Character(UnicodeScalar(b)))'" : "0x" + String(b, radix: 16)
                throw CohortError.invalidArgument("tokenizer: \(shown) at position \(i) is not in the vocabulary of \(count) tokens")
            }
            out[i] = Int32(id)
        }
        return out
    }

    /// Token ids of `text`'s UTF-8 bytes.
    public func encode(_ text: String) throws -> [Int32] { try encode(Array(text.utf8)) }

    /// The text of `ids` (bytes decoded as UTF-8, invalid sequences replaced).
    /// - Throws: `CohortError.invalidArgument` for an id outside the vocabulary.
    public func decode(_ ids: [Int32]) throws -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count)
        for id in ids {
            guard id >= 0 && Int(id) < count else { throw CohortError.invalidArgument("tokenizer: id \(id) outside the vocabulary of \(count) tokens") }
            bytes.append(vocabulary[Int(id)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The vocabulary as hex digits, for checkpoint metadata.
    public var serialized: String { vocabulary.map { String(format: "%02x", $0) }.joined() }

    /// A tokenizer from `serialized`.
    /// - Throws: `CohortError.invalidArgument` when the text is not an even number of hex digits.
    public init(serialized text: String) throws {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0, !chars.isEmpty else { throw CohortError.invalidArgument("tokenizer: bad serialized vocabulary '\(text.prefix(20))'") }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let b = UInt8(String(decoding: chars[i..<(i + 2)], as: UTF8.self), radix: 16) else {
                throw CohortError.invalidArgument("tokenizer: bad serialized vocabulary at character \(i)")
            }
            bytes.append(b)
        }
        try self.init(vocabulary: bytes)
    }
}

/// Next-token-prediction samples: window i covers tokens `i·stride ..< i·stride + context + 1`;
/// its inputs are the first `context` tokens, its targets the last `context`.
public struct TokenWindows: Sendable {
    /// Name shown in logs and checkpoints.
    public let name: String
    /// The token stream.
    public let tokens: [Int32]
    /// Tokens per sample (T).
    public let context: Int
    /// Distance between window starts.
    public let stride: Int
    /// Vocabulary size (for checks and the model's output width).
    public let vocabularySize: Int

    /// Windows over `tokens`.
    /// - Throws: `CohortError.invalidArgument` when the stream is shorter than one window.
    public init(name: String, tokens: [Int32], context: Int, stride: Int? = nil, vocabularySize: Int) throws {
        guard context > 0 else { throw CohortError.invalidArgument("\(name): context must be positive, got \(context)") }
        guard tokens.count > context else {
            throw CohortError.invalidArgument("\(name): \(tokens.count) tokens are fewer than one window of \(context + 1)")
        }
        self.name = name
        self.tokens = tokens
        self.context = context
        self.stride = max(stride ?? context, 1)
        self.vocabularySize = vocabularySize
    }

    /// Number of windows.
    public var count: Int { (tokens.count - context - 1) / stride + 1 }

    /// Inputs `[B, T]` (token ids as floats, the form `Embedding` takes) and the
    /// flattened targets `[B·T]`, for windows `indices`.
    public func makeBatch(indices: [Int]) -> (inputs: Tensor, targets: [Int]) {
        let t = context
        let storage = Storage(count: indices.count * t)
        let inputs = Tensor(storage: storage, shape: [indices.count, t])
        var targets = [Int](repeating: 0, count: indices.count * t)
        let p = storage.pointer
        for (row, i) in indices.enumerated() {
            let start = i * stride
            for j in 0..<t {
                p[row * t + j] = Float(tokens[start + j])
                targets[row * t + j] = Int(tokens[start + j + 1])
            }
        }
        return (inputs, targets)
    }
}

/// A text file read whole, with a clear error naming it.
public enum TextCorpus {
    /// The bytes of `path`.
    /// - Throws: `CohortError.badFile` when it is missing, unreadable or empty.
    public static func load(path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CohortError.badFile(path: path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist")
        }
        guard !data.isEmpty else { throw CohortError.badFile(path: path, "is empty") }
        return [UInt8](data)
    }
}
