// The singular value decomposition (LAPACK dgesdd, Float64) and what is built on it:
// singular values, pseudo-inverse, numerical rank, orthonormal bases of the range
// and the null space. Default tolerances use Float32's epsilon, since the inputs
// are Float32 (NumPy does the same for float32 arrays in matrix_rank).
import CohortTensor

extension Linalg {
    /// Float32 machine epsilon (2⁻²³), the default relative tolerance unit here.
    public static let float32Epsilon = Double(Float.ulpOfOne)

    /// Singular value decomposition `A = U diag(s) Vh` of each matrix of `a` `[..., m, n]`.
    ///
    /// - Parameter fullMatrices: true gives U `[..., m, m]` and Vh `[..., n, n]`; false the
    ///   reduced U `[..., m, k]` and Vh `[..., k, n]`, k = min(m, n).
    /// - Returns: s `[..., k]` descending and non-negative. Singular vectors are unique
    ///   only up to sign (and rotation within repeated singular values). Not differentiable.
    /// - Throws: `CohortError.invalidArgument` for rank < 2 or if dgesdd does not
    ///   converge; `CohortError.nonFinite` for NaN/Inf.
    public static func svd(_ a: Tensor, fullMatrices: Bool = true) throws -> (u: Tensor, s: Tensor, vh: Tensor) {
        let op = "Linalg.svd"
        let A = try MatrixBatch(a, op: op, name: "A")
        let m = A.rows, n = A.cols, k = Swift.min(m, n)
        let parts = try map(A, op, "A", a.shape) { _, mat, ctx in try LAPACK.svd(mat, full: fullMatrices, vectors: true, ctx) }
        return (try makeTensor(A.batchShape, parts.map(\.u), rows: m, cols: fullMatrices ? m : k),
                try makeTensor(A.batchShape, parts.map(\.s), length: k),
                try makeTensor(A.batchShape, parts.map(\.vt), rows: fullMatrices ? n : k, cols: n))
    }

    /// Singular values `[..., k]` (descending) of each matrix of `a` `[..., m, n]`.
    /// - Throws: like `svd`.
    public static func svdvals(_ a: Tensor) throws -> Tensor {
        let op = "Linalg.svdvals"
        let A = try MatrixBatch(a, op: op, name: "A")
        let parts = try map(A, op, "A", a.shape) { _, mat, ctx in try LAPACK.svd(mat, full: false, vectors: false, ctx) }
        return try makeTensor(A.batchShape, parts.map(\.s), length: Swift.min(A.rows, A.cols))
    }

    /// Moore–Penrose pseudo-inverse `[..., n, m]` of each matrix of `a` `[..., m, n]`,
    /// from the SVD: singular values at most `rtol · s_max` are treated as zero.
    /// - Parameter rtol: default `max(m, n) · float32Epsilon` (as `torch.linalg.pinv`).
    /// - Throws: like `svd`.
    public static func pinv(_ a: Tensor, rtol: Double? = nil) throws -> Tensor {
        let op = "Linalg.pinv"
        let A = try MatrixBatch(a, op: op, name: "A")
        let m = A.rows, n = A.cols, k = Swift.min(m, n)
        let tol = rtol ?? Double(Swift.max(m, n)) * float32Epsilon
        let P = try map(A, op, "A", a.shape) { _, mat, ctx -> Matrix in
            let (u, s, vt) = try LAPACK.svd(mat, full: false, vectors: true, ctx)
            let cutoff = tol * (s.first ?? 0)
            var scaled = vt   // k × n; row r divided by s[r] (or zeroed)
            for j in 0..<n { for r in 0..<k { scaled[r, j] = s[r] > cutoff ? scaled[r, j] / s[r] : 0 } }
            return LAPACK.matmul(scaled, u, transA: true, transB: true)
        }
        return try makeTensor(A.batchShape, P, rows: n, cols: m)
    }

    /// Numerical rank of a matrix `[m, n]`: the number of singular values above
    /// `tolerance`, by default `s_max · max(m, n) · float32Epsilon` (NumPy's rule for float32).
    /// - Throws: `CohortError.invalidArgument` unless `a` has rank 2; like `svd` otherwise.
    public static func matrixRank(_ a: Tensor, tolerance: Double? = nil) throws -> Int {
        let (s, tol) = try singularValues(a, "Linalg.matrixRank", rcond: nil, absolute: tolerance)
        return s.filter { $0 > tol }.count
    }

    /// An orthonormal basis `[m, r]` of the range (column space) of a matrix `[m, n]`, like
    /// `scipy.linalg.orth`: the left singular vectors whose singular values exceed
    /// `rcond · s_max`, r the numerical rank.
    /// - Parameter rcond: default `max(m, n) · float32Epsilon`.
    /// - Throws: `CohortError.invalidArgument` unless `a` has rank 2; like `svd` otherwise.
    public static func orth(_ a: Tensor, rcond: Double? = nil) throws -> Tensor {
        let op = "Linalg.orth"
        let (s, tol) = try singularValues(a, op, rcond: rcond, absolute: nil)
        let r = s.filter { $0 > tol }.count
        let A = try MatrixBatch(a, op: op, name: "A")
        let (u, _, _) = try LAPACK.svd(A.matrices[0], full: false, vectors: true, "\(op): A \(describeShape(a.shape))")
        return try makeTensor([], [u.leadingColumns(r)], rows: A.rows, cols: r)
    }

    /// An orthonormal basis `[n, n − r]` of the null space of a matrix `[m, n]`, like
    /// `scipy.linalg.null_space`: the right singular vectors beyond the numerical rank r
    /// (singular values at most `rcond · s_max` count as zero), so `A · N ≈ 0`.
    /// - Parameter rcond: default `max(m, n) · float32Epsilon`.
    /// - Throws: `CohortError.invalidArgument` unless `a` has rank 2; like `svd` otherwise.
    public static func nullSpace(_ a: Tensor, rcond: Double? = nil) throws -> Tensor {
        let op = "Linalg.nullSpace"
        let (s, tol) = try singularValues(a, op, rcond: rcond, absolute: nil)
        let r = s.filter { $0 > tol }.count
        let A = try MatrixBatch(a, op: op, name: "A")
        let (_, _, vt) = try LAPACK.svd(A.matrices[0], full: true, vectors: true, "\(op): A \(describeShape(a.shape))")
        let n = A.cols
        var basis = Matrix(rows: n, cols: n - r)
        for j in 0..<(n - r) { for i in 0..<n { basis[i, j] = vt[r + j, i] } }
        return try makeTensor([], [basis], rows: n, cols: n - r)
    }

    /// Singular values of a single matrix and the cut-off below which they count as zero.
    private static func singularValues(_ a: Tensor, _ op: String, rcond: Double?, absolute: Double?) throws -> ([Double], Double) {
        guard a.rank == 2 else {
            throw CohortError.invalidArgument("\(op): A must be a matrix [m, n], got shape \(describeShape(a.shape))")
        }
        let A = try MatrixBatch(a, op: op, name: "A")
        let s = try LAPACK.svd(A.matrices[0], full: false, vectors: false, "\(op): A \(describeShape(a.shape))").s
        if let absolute { return (s, absolute) }
        let rc = rcond ?? Double(Swift.max(A.rows, A.cols)) * float32Epsilon
        return (s, rc * (s.first ?? 0))
    }
}
