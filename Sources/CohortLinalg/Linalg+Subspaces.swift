// Numerical rank and orthonormal bases of the range and the null space, from the SVD
// (LAPACK dgesdd, Float64), batched over leading dimensions. Ranks can differ between
// the matrices of a batch, so bases are stacked into one tensor only when every rank
// agrees; `orthBases` / `nullSpaceBases` return one tensor per matrix (ragged).
import CohortCore
import CohortTensor

extension Linalg {
    /// Numerical rank of a matrix `[m, n]`: the number of singular values above
    /// `tolerance`, by default `s_max · max(m, n) · float32Epsilon` (NumPy's rule for float32).
    /// - Throws: `CohortError.invalidArgument` unless `a` has rank 2 (use `matrixRanks`
    ///   for a batch); like `svd` otherwise.
    public static func matrixRank(_ a: Tensor, tolerance: Double? = nil) throws -> Int {
        let op = "Linalg.matrixRank"
        guard a.rank == 2 else {
            throw CohortError.invalidArgument("\(op): A must be a matrix [m, n], got shape \(describeShape(a.shape)); use Linalg.matrixRanks for a batch")
        }
        return try decompose(a, op, .none, rcond: nil, absolute: tolerance).1[0].rank
    }

    /// Numerical ranks of each matrix of `a` `[..., m, n]` as a tensor `[...]` of whole
    /// numbers (exact in Float32), with `matrixRank`'s rule per matrix. A single matrix
    /// `[m, n]` gives a 0-dimensional tensor. Not differentiable.
    /// - Throws: like `svd`.
    public static func matrixRanks(_ a: Tensor, tolerance: Double? = nil) throws -> Tensor {
        let (A, parts) = try decompose(a, "Linalg.matrixRanks", .none, rcond: nil, absolute: tolerance)
        return try makeTensor(A.batchShape, parts.map { Double($0.rank) })
    }

    /// An orthonormal basis `[..., m, r]` of the range (column space) of each matrix of `a`
    /// `[..., m, n]`, like `scipy.linalg.orth`: the left singular vectors whose singular
    /// values exceed `rcond · s_max`, r the numerical rank. A batch stacks only when every
    /// matrix has the same r (an empty batch gives r = 0). Not differentiable.
    /// - Parameter rcond: default `max(m, n) · float32Epsilon`.
    /// - Throws: `CohortError.invalidArgument` for rank < 2, or naming the ranks when they
    ///   differ within a batch (use `orthBases`); like `svd` otherwise.
    public static func orth(_ a: Tensor, rcond: Double? = nil) throws -> Tensor {
        let op = "Linalg.orth"
        let (A, parts) = try decompose(a, op, .left, rcond: rcond, absolute: nil)
        let r = try commonRank(parts.map(\.rank), op, a.shape, alternative: "Linalg.orthBases")
        return try makeTensor(A.batchShape, parts.map { $0.u.leadingColumns(r) }, rows: A.rows, cols: r)
    }

    /// `orth` of each matrix of `a` `[..., m, n]` separately: one tensor `[m, r_b]` per
    /// matrix, in row-major batch order (a single matrix gives one element). Use it when
    /// the ranks differ within a batch.
    /// - Throws: like `orth`, but never for differing ranks.
    public static func orthBases(_ a: Tensor, rcond: Double? = nil) throws -> [Tensor] {
        let (A, parts) = try decompose(a, "Linalg.orthBases", .left, rcond: rcond, absolute: nil)
        return try parts.map { try makeTensor([], [$0.u.leadingColumns($0.rank)], rows: A.rows, cols: $0.rank) }
    }

    /// An orthonormal basis `[..., n, n − r]` of the null space of each matrix of `a`
    /// `[..., m, n]`, like `scipy.linalg.null_space`: the right singular vectors beyond
    /// the numerical rank r (singular values at most `rcond · s_max` count as zero), so
    /// `A · N ≈ 0`. A batch stacks only when every matrix has the same r (an empty batch
    /// gives n − r = n). Not differentiable.
    /// - Parameter rcond: default `max(m, n) · float32Epsilon`.
    /// - Throws: `CohortError.invalidArgument` for rank < 2, or naming the ranks when they
    ///   differ within a batch (use `nullSpaceBases`); like `svd` otherwise.
    public static func nullSpace(_ a: Tensor, rcond: Double? = nil) throws -> Tensor {
        let op = "Linalg.nullSpace"
        let (A, parts) = try decompose(a, op, .rightFull, rcond: rcond, absolute: nil)
        let r = try commonRank(parts.map(\.rank), op, a.shape, alternative: "Linalg.nullSpaceBases")
        return try makeTensor(A.batchShape, parts.map { nullBasis($0.vt, rank: r) }, rows: A.cols, cols: A.cols - r)
    }

    /// `nullSpace` of each matrix of `a` `[..., m, n]` separately: one tensor `[n, n − r_b]`
    /// per matrix, in row-major batch order (a single matrix gives one element; a
    /// full-column-rank matrix gives `[n, 0]`). Use it when the ranks differ within a batch.
    /// - Throws: like `nullSpace`, but never for differing ranks.
    public static func nullSpaceBases(_ a: Tensor, rcond: Double? = nil) throws -> [Tensor] {
        let (A, parts) = try decompose(a, "Linalg.nullSpaceBases", .rightFull, rcond: rcond, absolute: nil)
        return try parts.map { try makeTensor([], [nullBasis($0.vt, rank: $0.rank)], rows: A.cols, cols: A.cols - $0.rank) }
    }

    private enum SingularVectors { case none, left, rightFull }

    /// SVD of every matrix and its numerical rank: singular values above `absolute`, or
    /// above `rcond · s_max` (default rcond `max(m, n) · float32Epsilon`).
    private static func decompose(_ a: Tensor, _ op: String, _ vectors: SingularVectors, rcond: Double?, absolute: Double?)
        throws -> (MatrixBatch, [(u: Matrix, vt: Matrix, rank: Int)]) {
        let A = try MatrixBatch(a, op: op, name: "A")
        let rc = rcond ?? rankTolerance(rows: A.rows, cols: A.cols, largest: 1)
        let parts = try map(A, op, "A", a.shape) { _, mat, ctx -> (u: Matrix, vt: Matrix, rank: Int) in
            let (u, s, vt) = try LAPACK.svd(mat, full: vectors == .rightFull, vectors: vectors != .none, ctx)
            let tol = absolute ?? rc * (s.first ?? 0)
            return (u, vt, s.filter { $0 > tol }.count)
        }
        return (A, parts)
    }

    /// The rank every matrix of a batch shares (0 for an empty batch).
    private static func commonRank(_ ranks: [Int], _ op: String, _ shape: [Int], alternative: String) throws -> Int {
        guard let r = ranks.first else { return 0 }
        guard ranks.allSatisfy({ $0 == r }) else {
            throw CohortError.invalidArgument("\(op): A \(describeShape(shape)): the matrices of the batch have different numerical ranks \(ranks), so their bases have different widths and do not stack into one tensor; use \(alternative) for one tensor per matrix")
        }
        return r
    }

    /// Columns r..<n of V (rows r..<n of the full Vᵀ, n×n).
    private static func nullBasis(_ vt: Matrix, rank r: Int) -> Matrix {
        let n = vt.cols
        var basis = Matrix(rows: n, cols: n - r)
        for j in 0..<(n - r) { for i in 0..<n { basis[i, j] = vt[r + j, i] } }
        return basis
    }
}
