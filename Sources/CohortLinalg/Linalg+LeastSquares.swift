// Least squares `min ‖A x − b‖₂` through LAPACK dgelsd (SVD-based, minimum-norm for
// rank-deficient A), returning what numpy.linalg.lstsq returns, batched over leading
// dimensions like torch.linalg.lstsq (residuals only when every matrix has full rank).
import CohortCore
import CohortTensor

/// The result of `Linalg.lstsq`, field by field as `numpy.linalg.lstsq`.
public struct LeastSquaresResult {
    /// The minimum-norm solution x: `[..., n]` or `[..., n, k]`, like b with m replaced by n.
    public let solution: Tensor
    /// Squared residual norms per column of b, `[..., 1]` for a vector b and `[..., k]`
    /// otherwise (so `[1]` or `[k]` for one matrix, as NumPy), when m > n and every matrix
    /// of the batch has full column rank n; empty (`[0]`) otherwise (as torch.linalg.lstsq).
    public let residuals: Tensor
    /// Effective rank of A (singular values above `rcond · s_max`); for a batch, the
    /// smallest rank in it (0 for an empty batch). Per-matrix values are in `ranks`.
    public let rank: Int
    /// Effective rank of each matrix of A, in row-major batch order.
    public let ranks: [Int]
    /// Singular values of each matrix of A, descending, `[..., min(m, n)]`.
    public let singularValues: Tensor
}

extension Linalg {
    /// Least-squares solution of `A x = b` for each matrix of `a` `[..., m, n]` (any
    /// shape: over-, under-determined, rank-deficient), via dgelsd in Float64.
    ///
    /// - Parameters:
    ///   - b: `[..., m]` (one right-hand side per matrix, recognised by having one
    ///     dimension fewer than `a`) or `[..., m, k]`, with `a`'s batch dimensions.
    ///   - rcond: singular values at most `rcond · s_max` count as zero. Default
    ///     `max(m, n) · float32Epsilon` (NumPy uses float64's epsilon even for float32
    ///     input; for Float32 data that counts rounding noise as rank).
    /// - Throws: `CohortError.invalidArgument` if `a` has rank < 2 or dgelsd does not
    ///   converge (naming the matrix of the batch); `CohortError.shapeMismatch` if b does
    ///   not fit A; `CohortError.nonFinite` for NaN/Inf. Not differentiable.
    public static func lstsq(_ a: Tensor, _ b: Tensor, rcond: Double? = nil) throws -> LeastSquaresResult {
        let op = "Linalg.lstsq"
        let A = try MatrixBatch(a, op: op, name: "A")
        let m = A.rows, n = A.cols
        let isVector = b.rank == a.rank - 1
        let fits = isVector ? b.shape == A.batchShape + [m] : (b.rank == a.rank && Array(b.shape.dropLast()) == A.batchShape + [m])
        guard fits else {
            throw CohortError.shapeMismatch(op: op, "A \(describeShape(a.shape)) and b \(describeShape(b.shape)): b must be \(describeShape(A.batchShape + [m])) or \(describeShape(A.batchShape + [m])) + [k]")
        }
        let B = try MatrixBatch(isVector ? try b.detached().unsqueeze(-1) : b, op: op, name: "b")
        let k = B.cols
        let rc = rcond ?? rankTolerance(rows: m, cols: n, largest: 1)
        let parts = try map(A, op, "A", a.shape) { i, mat, ctx in try LAPACK.lstsq(mat, B.matrices[i], rcond: rc, ctx) }
        let ranks = parts.map(\.rank)
        let solutions = parts.map { $0.x.leadingRows(n) }
        var residuals = try makeTensor([0], [])
        if m > n && ranks.allSatisfy({ $0 == n }) {
            let sums = parts.map { p in (0..<k).map { j in (n..<m).reduce(0) { $0 + p.x[$1, j] * p.x[$1, j] } } }
            residuals = try makeTensor(A.batchShape, sums, length: k)
        }
        let solution = try makeTensor(A.batchShape, solutions, rows: n, cols: k)
        return LeastSquaresResult(solution: isVector ? try solution.reshape(A.batchShape + [n]) : solution,
                                  residuals: residuals,
                                  rank: ranks.min() ?? 0,
                                  ranks: ranks,
                                  singularValues: try makeTensor(A.batchShape, parts.map(\.s), length: Swift.min(m, n)))
    }
}
