// Float64 entry points on plain row-major arrays, for code that computes in Double
// outside the tensor world (CohortProbability's multivariate normal, its KL divergence
// and Bayesian linear regression): Cholesky, triangular and SPD solves, inverses and
// the log-determinant from a factor, on the same LAPACK/BLAS calls as the tensor API.
import CohortCore
import Glibc

extension Linalg {
    /// The lower Cholesky factor L (row-major n × n, zeros above the diagonal) with L Lᵀ = `a`,
    /// for `a` row-major n × n symmetric positive definite (only its lower triangle is read).
    /// - Throws: `CohortError.invalidArgument` naming `name` if `a` does not hold n·n values or
    ///   is not positive definite (naming the first leading minor that is not positive).
    public static func cholesky(_ a: [Double], n: Int, name: String = "Linalg.cholesky") throws -> [Double] {
        guard n >= 0, a.count == n * n else {
            throw CohortError.invalidArgument("\(name): \(a.count) values do not form a \(n) × \(n) matrix")
        }
        // Row-major lower triangle = column-major upper; transpose so LAPACK reads the lower one.
        return try LAPACK.cholesky(Matrix(rows: n, cols: n, data: a).transposed, name).rowMajor
    }

    /// X (row-major n × k) with L X = B, or Lᵀ X = B when `transpose`, for `l` lower triangular
    /// (row-major n × n, non-singular) and `b` row-major n × k.
    public static func solveTriangular(_ l: [Double], n: Int, _ b: [Double], columns k: Int, transpose: Bool = false) -> [Double] {
        precondition(l.count == n * n && b.count == n * k, "Linalg.solveTriangular: \(l.count) and \(b.count) values for n = \(n), k = \(k)")
        let lower = Matrix(rows: n, cols: n, data: l).transposed, rhs = Matrix(rows: k, cols: n, data: b).transposed
        return LAPACK.triangularSolve(lower, rhs, left: true, transpose: transpose).rowMajor
    }

    /// X (row-major n × k) with (L Lᵀ) X = B, for a Cholesky factor `l` from `cholesky(_:n:name:)`.
    public static func choleskySolve(_ l: [Double], n: Int, _ b: [Double], columns k: Int) -> [Double] {
        solveTriangular(l, n: n, solveTriangular(l, n: n, b, columns: k), columns: k, transpose: true)
    }

    /// (L Lᵀ)⁻¹ (row-major n × n) from a Cholesky factor `l`.
    public static func choleskyInverse(_ l: [Double], n: Int) -> [Double] {
        choleskySolve(l, n: n, Matrix.identity(n).data, columns: n)
    }

    /// L⁻¹ (row-major n × n, lower triangular) for `l` lower triangular and non-singular.
    public static func inverseLower(_ l: [Double], n: Int) -> [Double] {
        solveTriangular(l, n: n, Matrix.identity(n).data, columns: n)
    }

    /// log det(L Lᵀ) = 2 Σ log Lᵢᵢ for a Cholesky factor `l` (row-major n × n).
    public static func choleskyLogDeterminant(_ l: [Double], n: Int) -> Double {
        var s = 0.0
        for i in 0..<n { s += log(l[i * n + i]) }
        return 2 * s
    }
}
