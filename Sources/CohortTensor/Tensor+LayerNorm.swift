// Layer normalisation over the last axis as one op: a fused forward kernel that
// saves each row's mean and 1/σ, and a fused backward that writes dx and adds
// dweight/dbias straight into the parameters' (arena) gradient buffers. With
// BLAS on several threads, rows are split across as many workers.
import CohortCore
import CohortKernels

extension Tensor {
    /// `(x - mean) / √(var + eps) · weight + bias` over the last axis (biased variance,
    /// as PyTorch's `layer_norm`).
    ///
    /// - Parameters:
    ///   - x: `[…, C]`, any strides (copied to contiguous if needed).
    ///   - weight: `[C]` or nil (ones); `bias`: `[C]` or nil (zeros).
    ///   - eps: added to the variance.
    /// - Returns: a tensor shaped like `x`.
    /// - Throws: `CohortError.shapeMismatch` if `x` has rank 0 or `weight`/`bias` are not `[C]`.
    public static func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) throws -> Tensor {
        guard x.rank >= 1 else { throw CohortError.shapeMismatch(op: "layerNorm", "input must have rank ≥ 1, got \(describeShape(x.shape))") }
        let n = x.shape[x.rank - 1]
        for (name, p) in [("weight", weight), ("bias", bias)] {
            if let p, p.shape != [n] {
                throw CohortError.shapeMismatch(op: "layerNorm", "\(name) \(describeShape(p.shape)) does not match the last dimension of input \(describeShape(x.shape)) (expected [\(n)])")
            }
        }
        let xc = x.contiguous()
        let rows = n == 0 ? 0 : x.count / n
        let w = weight?.contiguous() ?? Tensor.ones([n])
        let bb = bias?.contiguous() ?? Tensor.zeros([n])
        let out = Tensor(uninitialized: x.shape)
        let stats = Tensor(uninitialized: [2, rows])
        LayerNormKernels.forward(rows: rows, n: n, x: xc.base, weight: w.base, bias: bb.base, eps: eps,
                                 out: out.base, mean: stats.base, rstd: stats.base + rows, workers: BLAS.threads)
        var inputs = [xc]
        if let weight { inputs.append(weight) }
        if let bias { inputs.append(bias) }
        let (sx, sw) = (xc.detached(), w.detached())
        // Slots of weight and bias among the recorded inputs (-1: absent).
        let iw = weight != nil ? 1 : -1, ib = bias != nil ? inputs.count - 1 : -1
        let rule = DerivativeRule.layerNorm(eps: eps, weight: weight != nil, bias: bias != nil)
        return record(out, "layerNorm", inputs, rule: rule) { g0, ctx in
            let g = g0.contiguous()
            var dx: Tensor?, dw: Tensor?, db: Tensor?
            var accW: Tensor?, accB: Tensor?
            if ctx.needs(0) { dx = Tensor(uninitialized: sx.shape) }
            if iw > 0, ctx.needs(iw) {
                accW = ctx.accumulator(iw)
                if accW == nil { dw = Tensor.zeros([n]) }
            }
            if ib > 0, ctx.needs(ib) {
                accB = ctx.accumulator(ib)
                if accB == nil { db = Tensor.zeros([n]) }
            }
            LayerNormKernels.backward(rows: rows, n: n, x: sx.base, weight: sw.base, mean: stats.base, rstd: stats.base + rows,
                                      g: g.base, dx: dx?.base, dweight: (accW ?? dw)?.base, dbias: (accB ?? db)?.base,
                                      workers: BLAS.threads)
            var grads: [Tensor?] = [dx]
            if iw > 0 { grads.append(dw) }
            if ib > 0 { grads.append(db) }
            return grads
        }
    }
}
