// The multivariate normal's and Bayesian regression's matrices as CohortLinalg
// sees them: nested [[Double]] rows in and out of its Float64 entry points
// (Cholesky on LAPACK, triangular solves on BLAS). Only the input checks that
// name this module's parameters live here; the arithmetic is CohortLinalg's.
import CohortCore
import CohortLinalg

/// Cholesky factors of symmetric positive-definite matrices held as rows.
enum CholeskyFactor {
    /// The lower-triangular L with L Lᵀ = `a` (symmetric positive definite, d × d).
    /// Throws naming `what` when `a` is not square, not symmetric or not positive definite.
    static func of(_ a: [[Double]], _ what: String) throws -> [[Double]] {
        let d = a.count
        for (i, row) in a.enumerated() where row.count != d {
            throw CohortError.invalidArgument("\(what): the matrix must be square, row \(i) has \(row.count) entries for \(d) rows")
        }
        for i in 0..<d {
            for j in 0..<i where abs(a[i][j] - a[j][i]) > 1e-9 * Swift.max(1, abs(a[i][j]), abs(a[j][i])) {
                throw CohortError.invalidArgument("\(what): the matrix is not symmetric at (\(i), \(j)): \(a[i][j]) vs \(a[j][i])")
            }
        }
        return rows(try Linalg.cholesky(Array(a.joined()), n: d, name: what), d)
    }

    /// x with L x = b.
    static func solveLower(_ l: [[Double]], _ b: [Double]) -> [Double] {
        Linalg.solveTriangular(Array(l.joined()), n: l.count, b, columns: 1)
    }

    /// x with (L Lᵀ) x = b.
    static func solve(_ l: [[Double]], _ b: [Double]) -> [Double] {
        Linalg.choleskySolve(Array(l.joined()), n: l.count, b, columns: 1)
    }

    /// (L Lᵀ)⁻¹.
    static func inverse(_ l: [[Double]]) -> [[Double]] { rows(Linalg.choleskyInverse(Array(l.joined()), n: l.count), l.count) }

    /// L⁻¹ (lower triangular).
    static func inverseLower(_ l: [[Double]]) -> [[Double]] { rows(Linalg.inverseLower(Array(l.joined()), n: l.count), l.count) }

    /// log det(L Lᵀ).
    static func logDeterminant(_ l: [[Double]]) -> Double { Linalg.choleskyLogDeterminant(Array(l.joined()), n: l.count) }

    /// Row-major `values` as `d` rows.
    private static func rows(_ values: [Double], _ d: Int) -> [[Double]] {
        (0..<d).map { Array(values[($0 * d)..<(($0 + 1) * d)]) }
    }
}
