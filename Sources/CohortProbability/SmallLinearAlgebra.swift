// Small dense linear algebra in Double for the multivariate normal and Bayesian
// linear regression: Cholesky factorisation, triangular solves, SPD solves and
// inverses. O(d³) textbook loops; meant for d up to a few hundred.
import CohortCore

enum SmallLinearAlgebra {
    /// The lower-triangular L with L Lᵀ = `a` (symmetric positive definite, d × d).
    /// Throws naming `what` when `a` is not square, not symmetric or not positive definite.
    static func cholesky(_ a: [[Double]], _ what: String) throws -> [[Double]] {
        let d = a.count
        for (i, row) in a.enumerated() where row.count != d {
            throw CohortError.invalidArgument("\(what): the matrix must be square, row \(i) has \(row.count) entries for \(d) rows")
        }
        for i in 0..<d {
            for j in 0..<i where abs(a[i][j] - a[j][i]) > 1e-9 * Swift.max(1, abs(a[i][j]), abs(a[j][i])) {
                throw CohortError.invalidArgument("\(what): the matrix is not symmetric at (\(i), \(j)): \(a[i][j]) vs \(a[j][i])")
            }
        }
        var l = [[Double]](repeating: [Double](repeating: 0, count: d), count: d)
        for j in 0..<d {
            var diagonal = a[j][j]
            for k in 0..<j { diagonal -= l[j][k] * l[j][k] }
            guard diagonal > 0, diagonal.isFinite else {
                throw CohortError.invalidArgument("\(what): the matrix is not positive definite (pivot \(j) is \(diagonal))")
            }
            l[j][j] = diagonal.squareRoot()
            for i in (j + 1)..<Swift.max(d, j + 1) {
                var s = a[i][j]
                for k in 0..<j { s -= l[i][k] * l[j][k] }
                l[i][j] = s / l[j][j]
            }
        }
        return l
    }

    /// x with L x = b (L lower triangular).
    static func solveLower(_ l: [[Double]], _ b: [Double]) -> [Double] {
        var x = b
        for i in 0..<b.count {
            for k in 0..<i { x[i] -= l[i][k] * x[k] }
            x[i] /= l[i][i]
        }
        return x
    }

    /// x with Lᵀ x = b (L lower triangular).
    static func solveUpperTransposed(_ l: [[Double]], _ b: [Double]) -> [Double] {
        var x = b
        for i in stride(from: b.count - 1, through: 0, by: -1) {
            for k in (i + 1)..<Swift.max(b.count, i + 1) { x[i] -= l[k][i] * x[k] }
            x[i] /= l[i][i]
        }
        return x
    }

    /// x with (L Lᵀ) x = b.
    static func solveCholesky(_ l: [[Double]], _ b: [Double]) -> [Double] { solveUpperTransposed(l, solveLower(l, b)) }

    /// (L Lᵀ)⁻¹, column by column.
    static func inverseCholesky(_ l: [[Double]]) -> [[Double]] {
        let d = l.count
        var columns: [[Double]] = []
        for j in 0..<d {
            var e = [Double](repeating: 0, count: d); e[j] = 1
            columns.append(solveCholesky(l, e))
        }
        return (0..<d).map { i in (0..<d).map { j in columns[j][i] } }
    }

    /// L⁻¹ (lower triangular), column by column.
    static func inverseLower(_ l: [[Double]]) -> [[Double]] {
        let d = l.count
        var columns: [[Double]] = []
        for j in 0..<d {
            var e = [Double](repeating: 0, count: d); e[j] = 1
            columns.append(solveLower(l, e))
        }
        return (0..<d).map { i in (0..<d).map { j in columns[j][i] } }
    }

    /// log det(L Lᵀ) = 2 Σ log Lᵢᵢ.
    static func logDeterminant(_ l: [[Double]]) -> Double {
        var s = 0.0
        for i in l.indices { s += naturalLog(l[i][i]) }
        return 2 * s
    }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func naturalLog(_ x: Double) -> Double { Glibc.log(x) }
#else
import Foundation
@inline(__always) func naturalLog(_ x: Double) -> Double { Foundation.log(x) }
#endif
