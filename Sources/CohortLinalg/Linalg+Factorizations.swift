// Cholesky and QR factorizations, batched over leading dimensions, both differentiable.
// Cholesky's gradient follows Murray (2016, arXiv:1602.07527) in the symmetric form
// PyTorch returns: ∂A = L⁻ᵀ · sym(Φ(Lᵀ G)) · L⁻¹, Φ = lower triangle with half diagonal.
// QR's (m ≥ n) is ∂A = (G_Q + Q copyltu(R G_Rᵀ − G_Qᵀ Q)) R⁻ᵀ (Walter & Lehmann 2018).
import CohortCore
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
    /// diagonal as LAPACK and NumPy give them).
    ///
    /// Q and R are differentiable for m ≥ n with `.reduced` mode (or m = n):
    /// `∂A = (G_Q + Q copyltu(M)) R⁻ᵀ`, M = R G_Rᵀ − G_Qᵀ Q, copyltu(M) the symmetric
    /// matrix with M's lower triangle. It needs R invertible (A of full column rank).
    /// - Throws: `CohortError.invalidArgument` for rank < 2, `CohortError.nonFinite` for
    ///   NaN/Inf. The backward throws `CohortError.invalidArgument` for m < n, for
    ///   `.complete` mode with m > n (Q's extra columns are not determined by A), and for
    ///   A without (numerically) full column rank, naming the zero diagonal entry of R.
    public static func qr(_ a: Tensor, mode: QRMode = .reduced) throws -> (q: Tensor, r: Tensor) {
        let op = "Linalg.qr"
        let A = try MatrixBatch(a, op: op, name: "A")
        let complete = mode == .complete
        let parts = try map(A, op, "A", a.shape) { _, m, ctx in try LAPACK.qr(m, complete: complete, ctx) }
        let m = A.rows, n = A.cols, k = Swift.min(m, n), qCols = complete ? m : k
        let qt = try makeTensor(A.batchShape, parts.map(\.q), rows: m, cols: qCols)
        let rt = try makeTensor(A.batchShape, parts.map(\.r), rows: complete ? m : k, cols: n)
        guard a.requiresGrad && GradMode.isEnabled else { return (qt, rt) }
        let Q = parts.map(\.q), R = parts.map(\.r)
        let back = "\(op) (backward)"
        // Both outputs contribute (G_Q + Q copyltu(M)) R⁻ᵀ with their part of M.
        func gradient(_ g: Tensor, _ name: String, _ partOfM: (Int, Matrix) -> Matrix, withGQ: Bool) throws -> [Tensor?] {
            let G = try MatrixBatch(g, op: back, name: name, checkFinite: false)
            let gA = try (0..<A.count).map { b -> Matrix in
                let ctx = MatrixBatch.context(back, "A", a.shape, index: b, batchCount: A.count)
                try QRGradient.check(R[b], rows: m, complete: complete, ctx)
                return QRGradient.gradient(q: Q[b], r: R[b], copyltu: partOfM(b, G.matrices[b]), gq: withGQ ? G.matrices[b] : nil)
            }
            return [try makeTensor(A.batchShape, gA, rows: m, cols: n)]
        }
        let q = try Tensor.customOp("linalg.qr.q", inputs: [a], forward: { _ in qt }) { g, _, _ in
            try gradient(g, "gradient of Q", { b, gq in LAPACK.matmul(gq, Q[b], transA: true).scaled(-1) }, withGQ: true)
        }
        let r = try Tensor.customOp("linalg.qr.r", inputs: [a], forward: { _ in rt }) { g, _, _ in
            try gradient(g, "gradient of R", { b, gr in LAPACK.matmul(R[b], gr, transB: true) }, withGQ: false)
        }
        return (q, r)
    }
}

/// The QR backward for m ≥ n (Q m×n, R n×n), per matrix in Float64.
enum QRGradient {
    /// Throws unless the gradient exists: m ≥ n, not `.complete` with m > n, and no
    /// diagonal entry of R at most `max|R_jj| · max(m, n) · float32Epsilon` (numerical rank
    /// deficiency, the rule of `matrixRank`: the Float32 input is only known to that precision,
    /// and LAPACK gives 0 or ~1e-16 for an exactly dependent column depending on the kernel).
    static func check(_ r: Matrix, rows m: Int, complete: Bool, _ ctx: String) throws {
        let n = r.cols
        guard m >= n else {
            throw CohortError.invalidArgument("\(ctx): the QR gradient needs m ≥ n (got \(m)×\(n)); factor Aᵀ instead, or use a wide matrix's QR without gradients")
        }
        guard !complete || m == n else {
            throw CohortError.invalidArgument("\(ctx): the QR gradient is not defined for mode .complete with m > n (\(m)×\(n)): Q's last \(m - n) columns are any basis of the orthogonal complement; use mode .reduced")
        }
        let diag = (0..<n).map { Swift.abs(r[$0, $0]) }
        let tol = Linalg.rankTolerance(rows: m, cols: n, largest: diag.max() ?? 0)
        if let i = diag.firstIndex(where: { $0 <= tol }) {
            throw CohortError.invalidArgument("\(ctx): R[\(i),\(i)] = \(r[i, i]) is (numerically) zero (tolerance \(tol) = max|R_jj| · max(m, n) · 2⁻²³): A does not have full column rank, and the QR gradient needs R invertible")
        }
    }

    /// `(G_Q + Q copyltu(M)) R⁻ᵀ` for the given M (its lower triangle is read).
    static func gradient(q: Matrix, r: Matrix, copyltu mm: Matrix, gq: Matrix?) -> Matrix {
        let n = r.cols
        var sym = mm
        for j in 0..<n { for i in 0..<j { sym[i, j] = mm[j, i] } }
        var lhs = LAPACK.matmul(q.leadingColumns(n), sym)
        if let gq { lhs = lhs.combined(gq.leadingColumns(n)) { $0 + $1 } }
        // X Rᵀ = lhs, with Rᵀ lower triangular.
        return LAPACK.triangularSolve(r.leadingRows(n).transposed, lhs, left: false, transpose: false)
    }
}
