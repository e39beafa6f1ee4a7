// Determinants from the LU factorisation (Float64): det, slogdet, logdet. Their
// gradients use ∂ log|det A| / ∂A = A⁻ᵀ and ∂ det A / ∂A = det(A) A⁻ᵀ, so they need
// A to be invertible (the backward throws, naming the op, when it is not).
import CohortTensor
import Glibc

extension Linalg {
    /// The determinant of each matrix of `a` `[..., n, n]`, shape `[...]` (a scalar for
    /// one matrix). Singular matrices give 0; `0×0` matrices give 1. Computed as
    /// sign · exp(log|det|) from the LU factors (dgetrf, Float64), so the product cannot
    /// overflow before the final rounding to Float32 (which may give ±Inf).
    /// Differentiable where A is invertible (`det(A) · A⁻ᵀ`).
    /// - Throws: `CohortError.invalidArgument` for non-square input (and, in the backward
    ///   pass, for a singular A); `CohortError.nonFinite` for NaN/Inf.
    public static func det(_ a: Tensor) throws -> Tensor {
        let op = "Linalg.det"
        let A = try MatrixBatch(a, op: op, name: "A", square: true)
        let parts = try map(A, op, "A", a.shape) { _, m, ctx in try LAPACK.slogdet(m, ctx) }
        let dets = parts.map { $0.sign == 0 ? 0 : $0.sign * exp($0.logAbs) }
        let out = try makeTensor(A.batchShape, dets)
        return try Tensor.customOp("linalg.det", inputs: [a], forward: { _ in out }) { g, _, _ in
            let gs = g.scalars
            let gA = try logDetGradient(A, a.shape, op) { i in Double(gs[i]) * dets[i] }
            return [gA]
        }
    }

    /// Sign and natural logarithm of the absolute determinant of each matrix of `a`
    /// `[..., n, n]` (both `[...]`), like `numpy.linalg.slogdet`: a singular matrix gives
    /// sign 0 and logAbsDet −∞. `logAbsDet` is differentiable (gradient `A⁻ᵀ`); `sign` is not.
    /// - Throws: like `det`.
    public static func slogdet(_ a: Tensor) throws -> (sign: Tensor, logAbsDet: Tensor) {
        let op = "Linalg.slogdet"
        let A = try MatrixBatch(a, op: op, name: "A", square: true)
        let parts = try map(A, op, "A", a.shape) { _, m, ctx in try LAPACK.slogdet(m, ctx) }
        let sign = try makeTensor(A.batchShape, parts.map(\.sign))
        let logAbs = try makeTensor(A.batchShape, parts.map(\.logAbs))
        let out = try Tensor.customOp("linalg.slogdet", inputs: [a], forward: { _ in logAbs }) { g, _, _ in
            let gs = g.scalars
            return [try logDetGradient(A, a.shape, op) { i in Double(gs[i]) }]
        }
        return (sign, out)
    }

    /// `log(det A)` of each matrix of `a` `[..., n, n]`, like `torch.logdet`: NaN where the
    /// determinant is negative, −∞ where it is 0. Differentiable (gradient `A⁻ᵀ`).
    /// - Throws: like `det`.
    public static func logdet(_ a: Tensor) throws -> Tensor {
        let op = "Linalg.logdet"
        let A = try MatrixBatch(a, op: op, name: "A", square: true)
        let parts = try map(A, op, "A", a.shape) { _, m, ctx in try LAPACK.slogdet(m, ctx) }
        let values = parts.map { $0.sign < 0 ? Double.nan : $0.logAbs }
        let out = try makeTensor(A.batchShape, values)
        return try Tensor.customOp("linalg.logdet", inputs: [a], forward: { _ in out }) { g, _, _ in
            let gs = g.scalars
            return [try logDetGradient(A, a.shape, op) { i in Double(gs[i]) }]
        }
    }

    /// `scale(i) · A_i⁻ᵀ` for every matrix: the shared backward of the determinant family.
    private static func logDetGradient(_ A: MatrixBatch, _ shape: [Int], _ op: String,
                                       scale: (Int) -> Double) throws -> Tensor {
        let grads = try map(A, "\(op) (backward)", "A", shape) { i, m, ctx in
            try LAPACK.inverse(m, ctx).transposed.scaled(scale(i))
        }
        return try makeTensor(A.batchShape, grads, rows: A.rows, cols: A.rows)
    }
}
