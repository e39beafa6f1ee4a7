// Least squares `min ‖A x − b‖₂` through LAPACK dgelsd (SVD-based, minimum-norm for
// rank-deficient A), returning what numpy.linalg.lstsq returns.
import CohortTensor

/// The result of `Linalg.lstsq`, field by field as `numpy.linalg.lstsq`.
public struct LeastSquaresResult {
    /// The minimum-norm solution x: `[n]` or `[n, k]`, like b with m replaced by n.
    public let solution: Tensor
    /// Squared residual norms per column of b (`[1]` for a vector b, `[k]` otherwise)
    /// when A has full column rank n and m > n; empty (`[0]`) otherwise.
    public let residuals: Tensor
    /// Effective rank of A (singular values above `rcond · s_max`).
    public let rank: Int
    /// Singular values of A, descending, `[min(m, n)]`.
    public let singularValues: Tensor
}

extension Linalg {
    /// Least-squares solution of `A x = b` for a matrix `a` `[m, n]` (any shape:
    /// over-, under-determined, rank-deficient), via dgelsd in Float64.
    ///
    /// - Parameters:
    ///   - b: `[m]` or `[m, k]`.
    ///   - rcond: singular values at most `rcond · s_max` count as zero. Default
    ///     `max(m, n) · float32Epsilon` (NumPy uses float64's epsilon even for float32
    ///     input; for Float32 data that counts rounding noise as rank).
    /// - Throws: `CohortError.invalidArgument` if `a` is not a matrix or dgelsd does not
    ///   converge; `CohortError.shapeMismatch` if b's first extent is not m;
    ///   `CohortError.nonFinite` for NaN/Inf. Not differentiable.
    public static func lstsq(_ a: Tensor, _ b: Tensor, rcond: Double? = nil) throws -> LeastSquaresResult {
        let op = "Linalg.lstsq"
        guard a.rank == 2 else {
            throw CohortError.invalidArgument("\(op): A must be a matrix [m, n], got shape \(describeShape(a.shape))")
        }
        let m = a.shape[0], n = a.shape[1]
        guard (b.rank == 1 || b.rank == 2), b.shape[0] == m else {
            throw CohortError.shapeMismatch(op: op, "A \(describeShape(a.shape)) and b \(describeShape(b.shape)): b must be [\(m)] or [\(m), k]")
        }
        let isVector = b.rank == 1
        let A = try MatrixBatch(a, op: op, name: "A")
        let B = try MatrixBatch(isVector ? try b.detached().unsqueeze(-1) : b, op: op, name: "b")
        let k = B.cols
        let rc = rcond ?? Double(Swift.max(m, n)) * float32Epsilon
        let (x, rank, s) = try LAPACK.lstsq(A.matrices[0], B.matrices[0], rcond: rc, "\(op): A \(describeShape(a.shape))")
        var solution = Matrix(rows: n, cols: k)
        for j in 0..<k { for i in 0..<n { solution[i, j] = x[i, j] } }
        var residuals: [Double] = []
        if rank == n && m > n {
            residuals = (0..<k).map { j in (n..<m).reduce(0) { $0 + x[$1, j] * x[$1, j] } }
        }
        let solTensor = try makeTensor([], [solution], rows: n, cols: k)
        return LeastSquaresResult(solution: isVector ? try solTensor.reshape([n]) : solTensor,
                                  residuals: try makeTensor([residuals.count], residuals),
                                  rank: rank,
                                  singularValues: try makeTensor([s.count], s))
    }
}
