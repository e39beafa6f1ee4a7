// `Embedding` with an int8 table: one scale per row (per token, max|row| / 127), each
// looked-up row dequantized as it is copied out. The table is most of a small model's
// file (the char-LSTM's), and a lookup reads only the rows it needs.
import CohortCore
import CohortNN
import CohortTensor

/// Token ids (integer values as floats, any shape) → rows `[…, dimension]` of an int8 table `[vocabularySize, dimension]`.
public final class QuantizedEmbedding: Module {
    public var isTraining = false
    public let vocabularySize: Int, dimension: Int
    /// The table, `[vocabularySize, dimension]`, a scale per row.
    public let weight: QuantizedMatrix

    /// Quantizes `embedding`'s table.
    public convenience init(_ embedding: Embedding) {
        self.init(weight: QuantizedMatrix(weights: embedding.weight.contiguous().scalars, rows: embedding.vocabularySize, k: embedding.dimension))
    }

    /// From stored values.
    public init(weight: QuantizedMatrix) {
        self.weight = weight
        vocabularySize = weight.rows; dimension = weight.k
    }

    /// - Throws: `CohortError.invalidArgument` for an id that is not an integer in `0..<vocabularySize` (naming its position).
    public func forward(_ ids: Tensor) throws -> Tensor {
        let v = ids.contiguous().scalars
        let (vocab, d) = (vocabularySize, dimension)
        for (i, f) in v.enumerated() where !(f.rounded() == f && f >= 0 && f < Float(vocab)) {
            throw CohortError.invalidArgument("embedding: id \(f) at position \(describeShape(Self.position(i, in: ids.shape))) is not an integer id of the vocabulary (valid ids 0..<\(vocab))")
        }
        let out = Storage(count: v.count * d)
        weight.q.withUnsafeBufferPointer { q in
            for (r, f) in v.enumerated() {
                let row = Int(f), s = weight.scales[row]
                for j in 0..<d { out.pointer[r * d + j] = Float(q[row * d + j]) * s }
            }
        }
        return Tensor(storage: out, shape: ids.shape + [d])
    }

    /// The multi-index of row-major element `flat` of `shape`.
    static func position(_ flat: Int, in shape: [Int]) -> [Int] {
        var rest = flat, idx = [Int](repeating: 0, count: shape.count)
        for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] > 0 { idx[d] = rest % shape[d]; rest /= shape[d] }
        return idx
    }
}
