// Indexing ops: index-select, gather and scatter-add. Index tensors hold
// integer values in Float32 (exact below 2^24); every index is range-checked
// and a bad one is reported with its position.
import CohortCore
import CohortKernels

extension Tensor {
    /// Checked integer indices from an index tensor, for a dimension of size `bound`.
    func indices(bound: Int, op: String) throws -> [Int] {
        let v = scalars
        var out = [Int](repeating: 0, count: v.count)
        for (i, f) in v.enumerated() {
            guard f.rounded() == f, f >= 0, Int(f) < bound else {
                throw CohortError.invalidArgument("\(op): index \(f) at position \(i) is out of range 0..<\(bound)")
            }
            out[i] = Int(f)
        }
        return out
    }

    /// Rows `index` along `axis` (like `torch.index_select`).
    public func indexSelect(axis: Int, _ index: [Int]) throws -> Tensor {
        let a = try normalizeAxis(axis, op: "indexSelect")
        for (i, v) in index.enumerated() where v < 0 || v >= shape[a] {
            throw CohortError.invalidArgument("indexSelect: index \(v) at position \(i) is out of range 0..<\(shape[a]) for axis \(axis) of \(describeShape(shape))")
        }
        let x = contiguous()
        let outer = shape[..<a].reduce(1, *), inner = shape[(a + 1)...].reduce(1, *), n = shape[a]
        var outShape = shape
        outShape[a] = index.count
        let out = Tensor(uninitialized: outShape)
        for o in 0..<outer {
            for (j, r) in index.enumerated() {
                (out.base + (o * index.count + j) * inner).update(from: x.base + (o * n + r) * inner, count: inner)
            }
        }
        let inShape = shape
        return record(out, "indexSelect", [x]) { g, _ in
            let gc = g.contiguous()
            let r = Tensor.zeros(inShape)
            for o in 0..<outer {
                for (j, idx) in index.enumerated() {
                    Elementwise.axpy(inner, alpha: 1, gc.base + (o * index.count + j) * inner, r.base + (o * n + idx) * inner)
                }
            }
            return [r]
        }
    }

    /// Offsets for gather/scatter: for every position of `indexShape`, the source
    /// offset in a contiguous tensor of `shape` with `axis` replaced by the index value.
    static func gatherOffsets(shape: [Int], axis a: Int, indexShape: [Int], idx: [Int]) -> [Int] {
        let st = Tensor.contiguousStrides(shape)
        var offsets = [Int](repeating: 0, count: idx.count)
        var pos = [Int](repeating: 0, count: indexShape.count)
        for i in 0..<idx.count {
            var off = 0
            for d in 0..<indexShape.count { off += (d == a ? idx[i] : pos[d]) * st[d] }
            offsets[i] = off
            var d = indexShape.count - 1
            while d >= 0 { pos[d] += 1; if pos[d] < indexShape[d] { break }; pos[d] = 0; d -= 1 }
        }
        return offsets
    }

    static func checkGatherShapes(_ shape: [Int], _ index: Tensor, axis a: Int, op: String) throws {
        guard index.rank == shape.count,
              (0..<shape.count).allSatisfy({ $0 == a || index.shape[$0] <= shape[$0] }) else {
            throw CohortError.shapeMismatch(op: op, "index \(describeShape(index.shape)) does not fit input \(describeShape(shape)) along axis \(a)")
        }
    }

    /// `out[i][j] = self[index[i][j]][j]` for axis 0 (generalised to any axis), like `torch.gather`.
    public func gather(axis: Int, index: Tensor) throws -> Tensor {
        let a = try normalizeAxis(axis, op: "gather")
        try Tensor.checkGatherShapes(shape, index, axis: a, op: "gather")
        let idx = try index.indices(bound: shape[a], op: "gather")
        let offsets = Tensor.gatherOffsets(shape: shape, axis: a, indexShape: index.shape, idx: idx)
        let x = contiguous()
        let out = Tensor(uninitialized: index.shape)
        for (i, o) in offsets.enumerated() { out.base[i] = x.base[o] }
        let inShape = shape
        return record(out, "gather", [x]) { g, _ in
            let gc = g.contiguous()
            let r = Tensor.zeros(inShape)
            for (i, o) in offsets.enumerated() { r.base[o] += gc.base[i] }
            return [r]
        }
    }

    /// A copy of `self` with `src` added at the positions `index` names along `axis`
    /// (`out[index[i][j]][j] += src[i][j]` for axis 0), like `torch.scatter_add`.
    public func scatterAdd(axis: Int, index: Tensor, source src: Tensor) throws -> Tensor {
        let a = try normalizeAxis(axis, op: "scatterAdd")
        try Tensor.checkGatherShapes(shape, index, axis: a, op: "scatterAdd")
        guard src.shape == index.shape else {
            throw CohortError.shapeMismatch(op: "scatterAdd", "source \(describeShape(src.shape)) vs index \(describeShape(index.shape))")
        }
        let idx = try index.indices(bound: shape[a], op: "scatterAdd")
        let offsets = Tensor.gatherOffsets(shape: shape, axis: a, indexShape: index.shape, idx: idx)
        let out = copy()
        let s = src.contiguous()
        for (i, o) in offsets.enumerated() { out.base[o] += s.base[i] }
        let srcShape = src.shape
        return record(out, "scatterAdd", [self, s]) { g, ctx in
            let gc = g.contiguous()
            var gs: Tensor?
            if ctx.needs(1) {
                gs = Tensor(uninitialized: srcShape)
                for (i, o) in offsets.enumerated() { gs!.base[i] = gc.base[o] }
            }
            return [ctx.needs(0) ? gc : nil, gs]
        }
    }
}
