// Matrix products through cblas_sgemm: 2-D, batched with broadcast batch
// dimensions, and the fused linear layer. Transposed views go to BLAS as
// transpose flags, never as copies.
import CohortCore
import CohortKernels

/// One GEMM operand: a batch of matrices read through their strides.
struct MatrixOperand {
    let tensor: Tensor
    let rows: Int, cols: Int      // logical shape of each matrix (before op)
    let ld: Int                   // leading dimension of the stored layout
    let transposed: Bool          // stored as the transpose (column-major view)
    let batchStrides: [Int]       // per batch dimension, aligned to the output batch shape

    /// Makes `t` (rank ≥ 2) usable by BLAS, copying only if its matrix layout is not.
    init(_ t0: Tensor, batchShape: [Int]) {
        var t = t0
        let r = t.rank
        var rs = t.strides[r - 2], cs = t.strides[r - 1]
        let rows = t.shape[r - 2], cols = t.shape[r - 1]
        if rows == 1 { rs = cols }            // a single row: any row stride works
        if cols == 1 { cs = 1; if rows == 1 { rs = 1 } }
        var transposed = false, ld = 0
        if cs == 1 && rs >= Swift.max(cols, 1) { ld = rs }
        else if rs == 1 && cs >= Swift.max(rows, 1) { transposed = true; ld = cs }
        else {
            t = t.copy(); ld = Swift.max(cols, 1)
        }
        if cols == 1 && rows > 1 && !transposed && ld < 1 { ld = 1 }
        self.tensor = t
        self.rows = rows; self.cols = cols; self.ld = Swift.max(ld, 1); self.transposed = transposed
        let lead = batchShape.count - (t.rank - 2)
        var bs = [Int](repeating: 0, count: batchShape.count)
        for i in 0..<(t.rank - 2) where t.shape[i] != 1 { bs[lead + i] = t.strides[i] }
        self.batchStrides = bs
    }
}

extension Tensor {
    /// Raw batched GEMM: `op(a) @ op(b)` with broadcast batch dims (no autograd).
    /// Writes into `into` when given (contiguous, accumulating with `beta`).
    static func gemm(_ a: Tensor, transA: Bool, _ b: Tensor, transB: Bool,
                     into: Tensor? = nil, beta: Float = 0, op: String = "matmul") throws -> Tensor {
        guard a.rank >= 2, b.rank >= 2 else {
            throw CohortError.shapeMismatch(op: op, "operands need rank ≥ 2, got \(describeShape(a.shape)) and \(describeShape(b.shape))")
        }
        let am = transA ? a.shape[a.rank - 1] : a.shape[a.rank - 2], ak = transA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let bk = transB ? b.shape[b.rank - 1] : b.shape[b.rank - 2], bn = transB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        guard ak == bk else {
            throw CohortError.shapeMismatch(op: op, "\(describeShape(a.shape)) @ \(describeShape(b.shape)): inner dimensions \(ak) and \(bk) differ")
        }
        let ba = Array(a.shape.dropLast(2)), bb = Array(b.shape.dropLast(2))
        guard let batch = try? broadcastShapes(ba, bb, op: op) else {
            throw CohortError.shapeMismatch(op: op, "\(describeShape(a.shape)) @ \(describeShape(b.shape)): batch dimensions \(describeShape(ba)) and \(describeShape(bb)) cannot be broadcast together")
        }
        let outShape = batch + [am, bn]
        let out = into ?? Tensor(uninitialized: outShape)
        let A = MatrixOperand(a, batchShape: batch), B = MatrixOperand(b, batchShape: batch)
        let nb = batch.reduce(1, *)
        var idx = [Int](repeating: 0, count: batch.count)
        for bi in 0..<nb {
            var offA = 0, offB = 0
            for d in 0..<batch.count { offA += idx[d] * A.batchStrides[d]; offB += idx[d] * B.batchStrides[d] }
            BLAS.sgemm(transA: transA != A.transposed, transB: transB != B.transposed, m: am, n: bn, k: ak,
                       alpha: 1, a: A.tensor.base + offA, lda: A.ld, b: B.tensor.base + offB, ldb: B.ld,
                       beta: beta, c: out.base + bi * am * bn, ldc: Swift.max(bn, 1))
            var d = batch.count - 1
            while d >= 0 { idx[d] += 1; if idx[d] < batch[d] { break }; idx[d] = 0; d -= 1 }
        }
        return out
    }

    /// Matrix product with NumPy semantics: 1-D operands are promoted and the added
    /// dimension removed; batch dimensions broadcast. `[.., m, k] @ [.., k, n] → [.., m, n]`.
    public static func matmul(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        if a.rank == 0 || b.rank == 0 {
            throw CohortError.shapeMismatch(op: "matmul", "scalar operand: \(describeShape(a.shape)) @ \(describeShape(b.shape))")
        }
        // Check the inner dimensions here so the message names the caller's shapes, not the promoted ones.
        let ak = a.shape[a.rank - 1], bk = b.shape[Swift.max(b.rank - 2, 0)]
        guard ak == bk else {
            throw CohortError.shapeMismatch(op: "matmul", "\(describeShape(a.shape)) @ \(describeShape(b.shape)): inner dimensions \(ak) and \(bk) differ")
        }
        // [k] @ [.., k, n] -> [.., n]; with b also 1-D the result is a scalar, so drop axis 0 then.
        if a.rank == 1 { return try matmul(a.unsqueeze(0), b).squeeze(b.rank == 1 ? 0 : -2) }
        if b.rank == 1 { return try matmul(a, b.unsqueeze(-1)).squeeze(-1) }
        let out = try gemm(a, transA: false, b, transB: false)
        let (da, db) = (a.detached(), b.detached())
        return record(out, "matmul", [a, b], rule: .matmul) { g, ctx in
            var ga: Tensor?, gb: Tensor?
            if ctx.needs(0) { ga = sumTo(try! gemm(g, transA: false, db, transB: true), da.shape) }
            if ctx.needs(1) { gb = sumTo(try! gemm(da, transA: true, g, transB: false), db.shape) }
            return [ga, gb]
        }
    }

    /// Fused affine map `x @ weight^T + bias` for `x: [.., in]`, `weight: [out, in]`,
    /// `bias: [out]`. The weight and bias gradients are accumulated by BLAS straight
    /// into their (arena) gradient buffers.
    public static func linear(_ x: Tensor, weight w: Tensor, bias: Tensor?) throws -> Tensor {
        try linear(x, weight: w, bias: bias, residual: nil)
    }

    /// `linear` plus a residual. With `residual` (shaped like the output) the map adds it in the same GEMM
    /// (`residual + bias + x @ weight^T`, the GEMM accumulating onto the residual), as a
    /// transformer block's `x + c_proj(…)`: no separate output buffer is kept for an add.
    /// That form is not twice differentiable.
    public static func linear(_ x: Tensor, weight w: Tensor, bias: Tensor?, residual: Tensor?) throws -> Tensor {
        guard w.rank == 2, x.rank >= 1, x.shape[x.rank - 1] == w.shape[1] else {
            throw CohortError.shapeMismatch(op: "linear", "input \(describeShape(x.shape)) does not match weight \(describeShape(w.shape)) (expects last dimension \(w.rank == 2 ? w.shape[1] : -1))")
        }
        if let bias, bias.shape != [w.shape[0]] {
            throw CohortError.shapeMismatch(op: "linear", "bias \(describeShape(bias.shape)) vs weight \(describeShape(w.shape))")
        }
        let inF = w.shape[1], outF = w.shape[0]
        if let residual, residual.shape != Array(x.shape.dropLast()) + [outF] {
            throw CohortError.shapeMismatch(op: "linear", "residual \(describeShape(residual.shape)) vs output \(describeShape(Array(x.shape.dropLast()) + [outF]))")
        }
        let xc = x.contiguous()
        let rows = x.count / Swift.max(inF, 1)
        let x2 = Tensor(storage: xc.storage, shape: [rows, inF], offset: xc.offset)
        let out = Tensor(uninitialized: [rows, outF])
        var beta: Float = 0
        if let residual {
            Elementwise.copy(shape: residual.shape, src: residual.base, strides: residual.strides, dst: out.base)
            if let bias { bias.withContiguousBuffer { b in for r in 0..<rows { Elementwise.axpy(outF, alpha: 1, b, out.base + r * outF) } } }
            beta = 1
        } else if let bias {
            let bc = bias.contiguous()
            for r in 0..<rows { (out.base + r * outF).update(from: bc.base, count: outF) }
            beta = 1
        }
        if rows == 1 && w.isContiguous {
            // One sample (inference): a matrix-vector product streams W once without packing.
            BLAS.sgemv(trans: false, rows: outF, cols: inF, alpha: 1, a: w.base, lda: inF, x: x2.base, beta: beta, y: out.base)
        } else {
            _ = try gemm(x2, transA: false, w, transB: true, into: out, beta: beta, op: "linear")
        }
        out.shape = Array(x.shape.dropLast()) + [outF]
        out.strides = Tensor.contiguousStrides(out.shape)
        let (dx, dw) = (x2.detached(), w.detached())
        let inputs = bias.map { [xc, w, $0] } ?? [xc, w]
        let xShape = x.shape
        if let residual {
            return record(out, "linear+residual", inputs + [residual]) { g0, ctx in
                let grads = linearBackward(g0, ctx, rows: rows, outF: outF, x: dx, w: dw, xShape: xShape, hasBias: bias != nil)
                return grads + [ctx.needs(inputs.count) ? g0 : nil]
            }
        }
        return record(out, "linear", inputs, rule: .linear) { g0, ctx in
            linearBackward(g0, ctx, rows: rows, outF: outF, x: dx, w: dw, xShape: xShape, hasBias: bias != nil)
        }
    }

    /// The input, weight and bias gradients of `linear` (the last two into their arena
    /// views when they are leaves there).
    private static func linearBackward(_ g0: Tensor, _ ctx: GradContext, rows: Int, outF: Int, x dx: Tensor, w dw: Tensor,
                                       xShape: [Int], hasBias: Bool) -> [Tensor?] {
        let g = g0.contiguous().reshapedView([rows, outF])
        var gx: Tensor?, gw: Tensor?, gb: Tensor?
        if ctx.needs(0) { gx = try! gemm(g, transA: false, dw, transB: false).reshapedView(xShape) }
        if ctx.needs(1) {
            if let acc = ctx.accumulator(1) { _ = try! gemm(g, transA: true, dx, transB: false, into: acc, beta: 1) }
            else { gw = try! gemm(g, transA: true, dx, transB: false) }
        }
        if hasBias && ctx.needs(2) {
            let colSums = g.reduced(.sum, axes: [0], keepDims: false)
            if let acc = ctx.accumulator(2) { Elementwise.axpy(outF, alpha: 1, colSums.base, acc.base) } else { gb = colSums }
        }
        return hasBias ? [gx, gw, gb] : [gx, gw]
    }
}
