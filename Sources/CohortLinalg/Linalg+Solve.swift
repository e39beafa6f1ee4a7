// Linear systems and inverses (LU with partial pivoting, Float64), with their
// gradients: for X = A⁻¹B, ∂B = A⁻ᵀG and ∂A = −∂B Xᵀ; for X = A⁻¹, ∂A = −XᵀGXᵀ.
import CohortCore
import CohortTensor

extension Linalg {
    /// Solves `A X = B` for X.
    ///
    /// - Parameters:
    ///   - a: `[..., n, n]`, non-singular.
    ///   - b: `[..., n]` (one right-hand side per matrix; recognised by having one
    ///     dimension fewer than `a`) or `[..., n, k]`; batch dimensions equal to `a`'s.
    /// - Returns: X shaped like `b`. Computed by LAPACK dgesv in Float64 on
    ///   column-major copies (transposed on the way in and out). Differentiable in
    ///   both arguments.
    /// - Throws: `CohortError.invalidArgument` if a matrix is singular (names the zero
    ///   pivot `U[i,i] = 0`, or the reciprocal condition estimate when it is below 2⁻⁵³,
    ///   "singular to working precision") or not square; `CohortError.shapeMismatch` if
    ///   `b` does not fit `a`; `CohortError.nonFinite` for NaN/Inf input. Ill-conditioned
    ///   but solvable systems (e.g. Hilbert matrices) succeed: check `cond`.
    public static func solve(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        let op = "Linalg.solve"
        let A = try MatrixBatch(a, op: op, name: "A", square: true)
        let isVector = b.rank == a.rank - 1
        let bMatrix = isVector ? try b.detached().unsqueeze(-1) : b
        let B = try MatrixBatch(bMatrix, op: op, name: "B")
        guard B.batchShape == A.batchShape, B.rows == A.rows else {
            throw CohortError.shapeMismatch(op: op, "A \(describeShape(a.shape)) and B \(describeShape(b.shape)): B must be \(describeShape(A.batchShape + [A.rows])) or \(describeShape(A.batchShape + [A.rows])) + [k]")
        }
        let X = try map(A, op, "A", a.shape) { i, m, ctx in try LAPACK.solve(m, B.matrices[i], ctx) }
        let x = try makeTensor(A.batchShape, X, rows: B.rows, cols: B.cols)
        let out = isVector ? try x.reshape(b.shape) : x
        return try Tensor.customOp("linalg.solve", inputs: [a, b], forward: { _ in out }) { g, _, _ in
            let gm = isVector ? try g.unsqueeze(-1) : g
            let G = try MatrixBatch(gm, op: "\(op) (backward)", name: "gradient", checkFinite: false)
            var gA = [Matrix](), gB = [Matrix]()
            for i in 0..<A.count {
                let ctx = MatrixBatch.context("\(op) (backward)", "A", a.shape, index: i, batchCount: A.count)
                let gb = try LAPACK.solve(A.matrices[i].transposed, G.matrices[i], ctx)
                gB.append(gb)
                gA.append(LAPACK.matmul(gb, X[i], transB: true).scaled(-1))
            }
            let gbTensor = try makeTensor(A.batchShape, gB, rows: B.rows, cols: B.cols)
            return [try makeTensor(A.batchShape, gA, rows: A.rows, cols: A.rows),
                    isVector ? try gbTensor.reshape(b.shape) : gbTensor]
        }
    }

    /// The inverse `A⁻¹` of each matrix of `a` `[..., n, n]` (LAPACK dgetrf + dgetri in
    /// Float64). Differentiable.
    /// - Throws: like `solve` for singular, non-square or non-finite input.
    public static func inverse(_ a: Tensor) throws -> Tensor {
        let op = "Linalg.inverse"
        let A = try MatrixBatch(a, op: op, name: "A", square: true)
        let X = try map(A, op, "A", a.shape) { _, m, ctx in try LAPACK.inverse(m, ctx) }
        let out = try makeTensor(A.batchShape, X, rows: A.rows, cols: A.rows)
        return try Tensor.customOp("linalg.inverse", inputs: [a], forward: { _ in out }) { g, _, _ in
            let G = try MatrixBatch(g, op: "\(op) (backward)", name: "gradient", checkFinite: false)
            let gA = zip(X, G.matrices).map { x, gm in
                LAPACK.matmul(LAPACK.matmul(x, gm, transA: true), x, transB: true).scaled(-1)
            }
            return [try makeTensor(A.batchShape, gA, rows: A.rows, cols: A.rows)]
        }
    }
}
