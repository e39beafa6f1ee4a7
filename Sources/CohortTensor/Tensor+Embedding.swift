// Embedding lookup: rows of a [vocab, dim] table gathered by integer ids, with
// a backward that scatter-adds into the table's gradient (in place, straight
// into a parameter arena when the table lives in one). Ids are range-checked.
import CohortCore
import CohortKernels

extension Tensor {
    /// Rows of `weight` (`[V, D]`) at `indices`, shaped `shape + [D]`.
    ///
    /// - Parameters:
    ///   - weight: the table `[V, D]`.
    ///   - indices: ids in `0..<V`, row-major over `shape`.
    ///   - shape: the shape of the ids (e.g. `[B, T]`); its element count must equal `indices.count`.
    /// - Returns: `[shape…, D]`; the gradient with respect to `weight` adds each output row into
    ///   the row it came from (repeated ids accumulate).
    /// - Throws: `CohortError.invalidArgument` naming the first bad id, its position and the
    ///   vocabulary size; `CohortError.shapeMismatch` for a bad table or id shape.
    public static func embedding(_ weight: Tensor, indices: [Int], shape: [Int]) throws -> Tensor {
        guard weight.rank == 2 else {
            throw CohortError.shapeMismatch(op: "embedding", "weight must be [vocab, dim], got \(describeShape(weight.shape))")
        }
        guard shape.reduce(1, *) == indices.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw CohortError.shapeMismatch(op: "embedding", "\(indices.count) ids do not fill shape \(describeShape(shape))")
        }
        let V = weight.shape[0], D = weight.shape[1]
        for (i, v) in indices.enumerated() where v < 0 || v >= V {
            throw CohortError.invalidArgument("embedding: id \(v) at position \(describeShape(embeddingIdPosition(i, in: shape))) is out of range for vocabulary size \(V) (valid ids 0..<\(V))")
        }
        let w = weight.contiguous()
        let out = Tensor(uninitialized: shape + [D])
        for (r, v) in indices.enumerated() { (out.base + r * D).update(from: w.base + v * D, count: D) }
        return record(out, "embedding", [w]) { g0, ctx in
            let g = g0.contiguous()
            let acc = ctx.accumulator(0)
            let dw = acc ?? Tensor.zeros([V, D])
            for (r, v) in indices.enumerated() { Elementwise.axpy(D, alpha: 1, g.base + r * D, dw.base + v * D) }
            return [acc == nil ? dw : nil]
        }
    }

    /// Rows of `weight` (`[V, D]`) at the ids held in `ids` (integer values stored as
    /// floats, any shape), shaped `ids.shape + [D]`.
    /// - Throws: as `embedding(_:indices:shape:)`; also for a non-integer id.
    public static func embedding(_ weight: Tensor, ids: Tensor) throws -> Tensor {
        let v = ids.scalars
        var idx = [Int](repeating: 0, count: v.count)
        for (i, f) in v.enumerated() {
            guard f.rounded() == f, f.magnitude < 16_777_216 else {
                throw CohortError.invalidArgument("embedding: id \(f) at position \(describeShape(embeddingIdPosition(i, in: ids.shape))) is not an integer")
            }
            idx[i] = Int(f)
        }
        return try embedding(weight, indices: idx, shape: ids.shape)
    }

    /// The multi-index of row-major element `flat` of `shape`.
    static func embeddingIdPosition(_ flat: Int, in shape: [Int]) -> [Int] {
        var rest = flat
        var idx = [Int](repeating: 0, count: shape.count)
        for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] > 0 { idx[d] = rest % shape[d]; rest /= shape[d] }
        return idx
    }
}
