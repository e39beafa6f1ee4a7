// The singular value decomposition (LAPACK dgesdd, Float64), singular values and the
// pseudo-inverse, all differentiable (backward passes in Linalg+SVDGradient.swift).
// U, s and Vh are three custom ops whose gradients add up at A, as the SVD gradient
// is a sum of one term per output. Default tolerances use Float32's epsilon.
import CohortTensor

extension Linalg {
    /// Float32 machine epsilon (2⁻²³), the default relative tolerance unit here.
    public static let float32Epsilon = Double(Float.ulpOfOne)

    /// The default rank tolerance of an m×n matrix whose largest singular value (or largest
    /// |R_jj| of its QR factor) is `largest`: `largest · max(m, n) · float32Epsilon`, NumPy's
    /// `matrix_rank` rule for float32 data. Every rank decision of CohortLinalg (matrixRank,
    /// pinv, lstsq, orth/nullSpace, the SVD, QR and eigh gradients) uses it: LAPACK returns
    /// 0 or ~1e-16 for an exactly zero singular value depending on the CPU and OpenBLAS
    /// kernel, so no decision may compare with 0.
    public static func rankTolerance(rows: Int, cols: Int, largest: Double) -> Double {
        largest * Double(Swift.max(rows, cols, 1)) * float32Epsilon
    }

    /// Singular value decomposition `A = U diag(s) Vh` of each matrix of `a` `[..., m, n]`.
    ///
    /// - Parameter fullMatrices: true gives U `[..., m, m]` and Vh `[..., n, n]`; false the
    ///   reduced U `[..., m, k]` and Vh `[..., k, n]`, k = min(m, n).
    /// - Returns: s `[..., k]` descending and non-negative. Singular vectors are unique
    ///   only up to sign (and rotation within repeated singular values), so a loss should
    ///   not depend on their signs (e.g. use `U ∘ U`, `U Vh`, `uᵢᵀ A vᵢ`).
    ///   All three are differentiable (Townsend 2016; `docs/linalg.md`). The gradient of s
    ///   always exists; the gradients of U and Vh need distinct singular values (and, for
    ///   the non-square part, non-zero ones). With `fullMatrices` and m ≠ n, gradients of
    ///   the columns of U (rows of Vh) beyond k are ignored: those vectors are an
    ///   arbitrary basis (PyTorch does the same).
    /// - Throws: `CohortError.invalidArgument` for rank < 2 or if dgesdd does not
    ///   converge; `CohortError.nonFinite` for NaN/Inf. The backward of U or Vh throws
    ///   `CohortError.invalidArgument` naming the two singular values when they are
    ///   (numerically) equal: closer than `max(m, n) · float32Epsilon · s_max`.
    public static func svd(_ a: Tensor, fullMatrices: Bool = true) throws -> (u: Tensor, s: Tensor, vh: Tensor) {
        let op = "Linalg.svd"
        let A = try MatrixBatch(a, op: op, name: "A")
        let m = A.rows, n = A.cols, k = Swift.min(m, n)
        let parts = try map(A, op, "A", a.shape) { _, mat, ctx in try LAPACK.svd(mat, full: fullMatrices, vectors: true, ctx) }
        let ut = try makeTensor(A.batchShape, parts.map(\.u), rows: m, cols: fullMatrices ? m : k)
        let vht = try makeTensor(A.batchShape, parts.map(\.vt), rows: fullMatrices ? n : k, cols: n)
        let S = parts.map(\.s)
        guard a.requiresGrad && GradMode.isEnabled else {
            return (ut, try makeTensor(A.batchShape, S, length: k), vht)
        }
        // The backward passes use the reduced factors: U m×k, Vᵀ k×n.
        let U = parts.map { $0.u.leadingColumns(k) }, Vt = parts.map { $0.vt.leadingRows(k) }
        let back = "\(op) (backward)"
        func context(_ b: Int) -> String { MatrixBatch.context(back, "A", a.shape, index: b, batchCount: A.count) }
        let s = try singularValueOp(a, A.batchShape, S, U, Vt, name: "linalg.svd.s")
        let u = try Tensor.customOp("linalg.svd.u", inputs: [a], forward: { _ in ut }) { g, _, _ in
            let G = try MatrixBatch(g, op: back, name: "gradient of U", checkFinite: false)
            let gA = try (0..<A.count).map { b in
                try SVDGradient.fromU(u: U[b], s: S[b], vt: Vt[b], gu: G.matrices[b].leadingColumns(k), context(b))
            }
            return [try makeTensor(A.batchShape, gA, rows: m, cols: n)]
        }
        let vh = try Tensor.customOp("linalg.svd.vh", inputs: [a], forward: { _ in vht }) { g, _, _ in
            let G = try MatrixBatch(g, op: back, name: "gradient of Vh", checkFinite: false)
            let gA = try (0..<A.count).map { b in
                try SVDGradient.fromVt(u: U[b], s: S[b], vt: Vt[b], gvt: G.matrices[b].leadingRows(k), context(b))
            }
            return [try makeTensor(A.batchShape, gA, rows: m, cols: n)]
        }
        return (u, s, vh)
    }

    /// Singular values `[..., k]` (descending) of each matrix of `a` `[..., m, n]`.
    /// Differentiable: `∂A = U diag(g) Vᵀ`, defined even for repeated singular values
    /// (the vectors are computed only when a gradient is needed).
    /// - Throws: like `svd`.
    public static func svdvals(_ a: Tensor) throws -> Tensor {
        let op = "Linalg.svdvals"
        let A = try MatrixBatch(a, op: op, name: "A")
        let needVectors = a.requiresGrad && GradMode.isEnabled
        let parts = try map(A, op, "A", a.shape) { _, mat, ctx in try LAPACK.svd(mat, full: false, vectors: needVectors, ctx) }
        return try singularValueOp(a, A.batchShape, parts.map(\.s), parts.map(\.u), parts.map(\.vt), name: "linalg.svdvals")
    }

    /// s `[..., k]` as an op whose backward is `U diag(g) Vᵀ` (U m×k, Vᵀ k×n per matrix).
    private static func singularValueOp(_ a: Tensor, _ batchShape: [Int], _ S: [[Double]], _ U: [Matrix], _ Vt: [Matrix],
                                        name: String) throws -> Tensor {
        let m = a.shape[a.rank - 2], n = a.shape[a.rank - 1], k = Swift.min(m, n)
        let st = try makeTensor(batchShape, S, length: k)
        return try Tensor.customOp(name, inputs: [a], forward: { _ in st }) { g, _, _ in
            let gs = g.scalars.map(Double.init)
            let gA = (0..<S.count).map { b in
                SVDGradient.fromValues(u: U[b], vt: Vt[b], gs: Array(gs[(b * k)..<((b + 1) * k)]))
            }
            return [try makeTensor(batchShape, gA, rows: m, cols: n)]
        }
    }

    /// Moore–Penrose pseudo-inverse `[..., n, m]` of each matrix of `a` `[..., m, n]`,
    /// from the SVD: singular values at most `rtol · s_max` are treated as zero.
    ///
    /// Differentiable (Golub & Pereyra 1973): `∂A = −Xᵀ G Xᵀ + (I − A X) Gᵀ X Xᵀ + Xᵀ X Gᵀ (I − X A)`
    /// with X = A⁺. The pseudo-inverse is continuous only where the rank is locally
    /// constant, so this is the gradient of A⁺ for full-rank A, and along perturbations
    /// that keep the rank for rank-deficient A.
    /// - Parameter rtol: default `max(m, n) · float32Epsilon` (as `torch.linalg.pinv`).
    /// - Throws: like `svd`.
    public static func pinv(_ a: Tensor, rtol: Double? = nil) throws -> Tensor {
        let op = "Linalg.pinv"
        let A = try MatrixBatch(a, op: op, name: "A")
        let m = A.rows, n = A.cols, k = Swift.min(m, n)
        let tol = rtol ?? rankTolerance(rows: m, cols: n, largest: 1)
        let P = try map(A, op, "A", a.shape) { _, mat, ctx -> Matrix in
            let (u, s, vt) = try LAPACK.svd(mat, full: false, vectors: true, ctx)
            let cutoff = tol * (s.first ?? 0)
            var scaled = vt   // k × n; row r divided by s[r] (or zeroed)
            for j in 0..<n { for r in 0..<k { scaled[r, j] = s[r] > cutoff ? scaled[r, j] / s[r] : 0 } }
            return LAPACK.matmul(scaled, u, transA: true, transB: true)
        }
        let out = try makeTensor(A.batchShape, P, rows: n, cols: m)
        return try Tensor.customOp("linalg.pinv", inputs: [a], forward: { _ in out }) { g, _, _ in
            let G = try MatrixBatch(g, op: "\(op) (backward)", name: "gradient", checkFinite: false)
            let gA = (0..<A.count).map { b in SVDGradient.pinv(a: A.matrices[b], x: P[b], g: G.matrices[b]) }
            return [try makeTensor(A.batchShape, gA, rows: m, cols: n)]
        }
    }
}
