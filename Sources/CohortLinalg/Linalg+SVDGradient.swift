// Backward passes of the reduced SVD A = U diag(s) Vᵀ (U m×k, V n×k, k = min(m, n)) and
// of the pseudo-inverse, per matrix in Float64. Townsend, "Differentiating the Singular
// Value Decomposition" (2016), real case, split by output (the gradient is linear in them):
//   from ∂s: U diag(∂s) Vᵀ
//   from ∂U: U [F ∘ (UᵀŪ − ŪᵀU)] S Vᵀ + (I − UUᵀ) Ū S⁻¹ Vᵀ        (second term only if m > k)
//   from ∂V: U S [F ∘ (VᵀV̄ − V̄ᵀV)] Vᵀ + U S⁻¹ V̄ᵀ (I − VVᵀ)        (second term only if n > k)
// with F_ij = 1/(s_j² − s_i²), i ≠ j: undefined for repeated singular values (we throw).
import CohortCore
import CohortTensor

/// Per-matrix SVD and pseudo-inverse gradients. `vt` is Vᵀ (k×n), as LAPACK returns it.
enum SVDGradient {
    /// Singular values closer than this count as equal (and as zero): the rank
    /// tolerance `max(m, n) · float32Epsilon · s_max`, since inputs are Float32.
    static func tolerance(rows: Int, cols: Int, _ s: [Double]) -> Double {
        Linalg.rankTolerance(rows: rows, cols: cols, largest: s.first ?? 0)
    }

    /// ∂A from the gradient of the singular values: `U diag(gs) Vᵀ`.
    static func fromValues(u: Matrix, vt: Matrix, gs: [Double]) -> Matrix {
        var scaled = u
        for j in 0..<u.cols { for i in 0..<u.rows { scaled[i, j] *= gs[j] } }
        return LAPACK.matmul(scaled, vt)
    }

    /// ∂A from the gradient `gu` (m×k) of the reduced left singular vectors.
    /// - Throws: `CohortError.invalidArgument` for (numerically) repeated singular values,
    ///   or a zero singular value when m > n.
    static func fromU(u: Matrix, s: [Double], vt: Matrix, gu: Matrix, _ ctx: String) throws -> Matrix {
        let m = u.rows, k = s.count
        let f = try gapFactors(s, rows: m, cols: vt.cols, ctx)
        let p = LAPACK.matmul(u, gu, transA: true)   // UᵀŪ, k×k
        var inner = Matrix(rows: k, cols: k)
        for j in 0..<k { for i in 0..<k { inner[i, j] = f[i, j] * (p[i, j] - p[j, i]) * s[j] } }
        var ga = LAPACK.matmul(LAPACK.matmul(u, inner), vt)
        if m > k {
            try requireNonZero(s, rows: m, cols: vt.cols, vectors: "U", ctx)
            var proj = gu.combined(LAPACK.matmul(u, p)) { $0 - $1 }   // (I − UUᵀ) Ū
            for j in 0..<k { for i in 0..<m { proj[i, j] /= s[j] } }
            ga = ga.combined(LAPACK.matmul(proj, vt), +)
        }
        return ga
    }

    /// ∂A from the gradient `gvt` (k×n) of the reduced Vᵀ (the gradient of V transposed).
    /// - Throws: like `fromU`, with a zero singular value mattering when n > m.
    static func fromVt(u: Matrix, s: [Double], vt: Matrix, gvt: Matrix, _ ctx: String) throws -> Matrix {
        let n = vt.cols, k = s.count
        let f = try gapFactors(s, rows: u.rows, cols: n, ctx)
        let p = LAPACK.matmul(vt, gvt, transB: true)   // VᵀV̄, k×k
        var inner = Matrix(rows: k, cols: k)
        for j in 0..<k { for i in 0..<k { inner[i, j] = s[i] * f[i, j] * (p[i, j] - p[j, i]) } }
        var ga = LAPACK.matmul(LAPACK.matmul(u, inner), vt)
        if n > k {
            try requireNonZero(s, rows: u.rows, cols: n, vectors: "Vh", ctx)
            var proj = gvt.combined(LAPACK.matmul(p, vt, transA: true)) { $0 - $1 }   // V̄ᵀ (I − VVᵀ)
            for j in 0..<n { for i in 0..<k { proj[i, j] /= s[i] } }
            ga = ga.combined(LAPACK.matmul(u, proj), +)
        }
        return ga
    }

    /// F_ij = 1/(s_j² − s_i²) off the diagonal, 0 on it.
    private static func gapFactors(_ s: [Double], rows: Int, cols: Int, _ ctx: String) throws -> Matrix {
        let k = s.count, tol = tolerance(rows: rows, cols: cols, s)
        var f = Matrix(rows: k, cols: k)
        for j in 0..<k {
            for i in 0..<k where i != j {
                guard Swift.abs(s[j] - s[i]) > tol else {
                    throw CohortError.invalidArgument("\(ctx): singular values \(Swift.min(i, j)) and \(Swift.max(i, j)) are (numerically) equal (\(s[Swift.min(i, j)]) and \(s[Swift.max(i, j)]), tolerance \(tol)); the singular vector gradient is undefined for repeated singular values (use svdvals, or a loss of s only)")
                }
                f[i, j] = 1 / ((s[j] - s[i]) * (s[j] + s[i]))
            }
        }
        return f
    }

    private static func requireNonZero(_ s: [Double], rows: Int, cols: Int, vectors: String, _ ctx: String) throws {
        let tol = tolerance(rows: rows, cols: cols, s)
        if let i = s.firstIndex(where: { $0 <= tol }) {
            throw CohortError.invalidArgument("\(ctx): singular value \(i) is (numerically) zero (\(s[i]), tolerance \(tol)); the gradient of \(vectors) of a non-square \(rows)×\(cols) matrix needs every singular value non-zero")
        }
    }

    /// ∂A for X = A⁺ (A m×n, X n×m, gradient g n×m), Golub & Pereyra (1973):
    /// −Xᵀ G Xᵀ + (I − A X) Gᵀ X Xᵀ + Xᵀ X Gᵀ (I − X A). Exact where the rank of A is
    /// locally constant (always for full rank).
    static func pinv(a: Matrix, x: Matrix, g: Matrix) -> Matrix {
        let first = LAPACK.matmul(LAPACK.matmul(x, g, transA: true), x, transB: true).scaled(-1)
        let w = LAPACK.matmul(LAPACK.matmul(g, x, transA: true), x, transB: true)        // Gᵀ X Xᵀ, m×n
        let second = w.combined(LAPACK.matmul(a, LAPACK.matmul(x, w))) { $0 - $1 }
        let z = LAPACK.matmul(LAPACK.matmul(x, x, transA: true), g, transB: true)        // Xᵀ X Gᵀ, m×n
        let third = z.combined(LAPACK.matmul(LAPACK.matmul(z, x), a)) { $0 - $1 }
        return first.combined(second, +).combined(third, +)
    }
}
