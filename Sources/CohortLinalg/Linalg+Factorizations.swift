// Cholesky (differentiable) and QR factorizations, batched over leading dimensions.
// Cholesky's gradient follows Murray (2016, arXiv:1602.07527) in the symmetric form
// PyTorch returns: ∂A = L⁻ᵀ · sym(Φ(Lᵀ G)) · L⁻¹, Φ = lower triangle with half diagonal.
import CohortTensor

/// Which Q and R `Linalg.qr` returns, as in `numpy.linalg.qr`.
public enum QRMode: Sendable {
    /// Q `[..., m, k]`, R `[..., k, n]`, k = min(m, n).
    case reduced
    /// Q `[..., m, m]`, R `[..., m, n]`.
    case complete
}

extension Linalg {
    /// The lower-triangular Cholesky factor L with `A = L Lᵀ` of each matrix of `a`
    /// `[..., n, n]` (LAPACK dpotrf in Float64). Only the lower triangle of A is read
    /// (like NumPy): A is assumed symmetric. Differentiable; the gradient is the
    /// symmetric one (valid for symmetric perturbations, as in PyTorch).
    /// - Throws: `CohortError.invalidArgument` naming the leading minor that is not
    ///   positive when A is not positive definite, or the shape when A is not square;
    ///   `CohortError.nonFinite` for NaN/Inf.
    public static func cholesky(_ a: Tensor) throws -> Tensor {
        let op = "Linalg.cholesky"
        let A = try MatrixBatch(a, op: op, name: "A", square: true)
        let L = try map(A, op, "A", a.shape) { _, m, ctx in try LAPACK.cholesky(m, ctx) }
        let out = try makeTensor(A.batchShape, L, rows: A.rows, cols: A.rows)
        return try Tensor.customOp("linalg.cholesky", inputs: [a], forward: { _ in out }) { g, _, _ in
            let G = try MatrixBatch(g, op: "\(op) (backward)", name: "gradient", checkFinite: false)
            let gA = zip(L, G.matrices).map { l, gm -> Matrix in
                var p = LAPACK.matmul(l, gm, transA: true)
                for j in 0..<p.cols {
                    for i in 0..<p.rows { if i < j { p[i, j] = 0 } else if i == j { p[i, j] /= 2 } }
                }
                let y = LAPACK.triangularSolve(l, p.symmetrized, left: true, transpose: true)
                return LAPACK.triangularSolve(l, y, left: false, transpose: false)
            }
            return [try makeTensor(A.batchShape, gA, rows: A.rows, cols: A.rows)]
        }
    }

    /// QR factorization `A = Q R` of each matrix of `a` `[..., m, n]`: Q has orthonormal
    /// columns, R is upper triangular (LAPACK dgeqrf + dorgqr in Float64; signs of R's
    /// diagonal as LAPACK and NumPy give them). Not differentiable.
    /// - Throws: `CohortError.invalidArgument` for rank < 2, `CohortError.nonFinite` for NaN/Inf.
    public static func qr(_ a: Tensor, mode: QRMode = .reduced) throws -> (q: Tensor, r: Tensor) {
        let op = "Linalg.qr"
        let A = try MatrixBatch(a, op: op, name: "A")
        let complete = mode == .complete
        let parts = try map(A, op, "A", a.shape) { _, m, ctx in try LAPACK.qr(m, complete: complete, ctx) }
        let k = Swift.min(A.rows, A.cols), qCols = complete ? A.rows : k
        return (try makeTensor(A.batchShape, parts.map(\.q), rows: A.rows, cols: qCols),
                try makeTensor(A.batchShape, parts.map(\.r), rows: complete ? A.rows : k, cols: A.cols))
    }
}
