// Eigendecompositions: symmetric (`eigh`, `eigvalsh`, differentiable, LAPACK dsyevd)
// and general (`eig`, LAPACK dgeev, complex results as real and imaginary tensors).
// Eigenvalue gradient: ∂A = V diag(g) Vᵀ. Eigenvector gradient: ∂A = sym(V (F ∘ VᵀG) Vᵀ)
// with F_ij = 1/(w_j − w_i), undefined for repeated eigenvalues (the backward throws).
import CohortCore
import CohortTensor

/// A complex tensor held as two real Float32 tensors of the same shape.
public struct ComplexTensor {
    /// Real parts.
    public let real: Tensor
    /// Imaginary parts.
    public let imag: Tensor
    /// The common shape of `real` and `imag`.
    public var shape: [Int] { real.shape }
    /// Whether every imaginary part is exactly zero.
    public var isReal: Bool { imag.scalars.allSatisfy { $0 == 0 } }
}

extension Linalg {
    /// Eigenvalues and eigenvectors of each symmetric matrix of `a` `[..., n, n]`
    /// (LAPACK dsyevd in Float64; only the lower triangle is read, like NumPy's default).
    ///
    /// - Returns: `values` `[..., n]` in ascending order and `vectors` `[..., n, n]`
    ///   whose columns are orthonormal eigenvectors (`A = V diag(w) Vᵀ`; each column's
    ///   sign is LAPACK's choice). Both are differentiable; gradients are the symmetric
    ///   ones. The eigenvector gradient is undefined when eigenvalues repeat: its
    ///   backward then throws when two differ by at most `max|w| · n · float32Epsilon`
    ///   (use `eigvalsh`, or a loss invariant to the eigenbasis).
    /// - Throws: `CohortError.invalidArgument` for a non-square matrix or when dsyevd
    ///   does not converge; `CohortError.nonFinite` for NaN/Inf.
    public static func eigh(_ a: Tensor) throws -> (values: Tensor, vectors: Tensor) {
        let op = "Linalg.eigh"
        let A = try MatrixBatch(a, op: op, name: "A", square: true)
        let parts = try map(A, op, "A", a.shape) { _, m, ctx in try LAPACK.eigh(m, vectors: true, ctx) }
        let n = A.rows
        let W = parts.map(\.values), V = parts.map(\.vectors)
        let values = try eigenvalueOp(a, A.batchShape, W, V, name: "linalg.eigh")
        let vt = try makeTensor(A.batchShape, V, rows: n, cols: n)
        let vectors = try Tensor.customOp("linalg.eigh.vectors", inputs: [a], forward: { _ in vt }) { g, _, _ in
            let G = try MatrixBatch(g, op: "\(op) (backward)", name: "gradient", checkFinite: false)
            let gA = try (0..<A.count).map { b -> Matrix in
                var p = LAPACK.matmul(V[b], G.matrices[b], transA: true)
                // Eigenvalues of a Float32 matrix closer than the rank tolerance are equal to its precision.
                let tol = rankTolerance(rows: n, cols: n, largest: W[b].map(Swift.abs).max() ?? 0)
                for j in 0..<n {
                    for i in 0..<n {
                        if i == j { p[i, j] = 0; continue }
                        let gap = W[b][j] - W[b][i]
                        guard Swift.abs(gap) > tol else {
                            let where_ = MatrixBatch.context("\(op) (backward)", "A", a.shape, index: b, batchCount: A.count)
                            throw CohortError.invalidArgument("\(where_): eigenvalues \(Swift.min(i, j)) and \(Swift.max(i, j)) are (numerically) equal (\(W[b][Swift.min(i, j)]) and \(W[b][Swift.max(i, j)]), tolerance \(tol) = max|w| · n · 2⁻²³); the eigenvector gradient is undefined for repeated eigenvalues")
                        }
                        p[i, j] /= gap
                    }
                }
                return LAPACK.matmul(LAPACK.matmul(V[b], p), V[b], transB: true).symmetrized
            }
            return [try makeTensor(A.batchShape, gA, rows: n, cols: n)]
        }
        return (values, vectors)
    }

    /// Eigenvalues `[..., n]` (ascending) of each symmetric matrix of `a` `[..., n, n]`:
    /// `eigh` without the vectors (which are still computed when a gradient is needed).
    /// Differentiable: `∂A = V diag(g) Vᵀ`, well defined even for repeated eigenvalues.
    /// - Throws: like `eigh`.
    public static func eigvalsh(_ a: Tensor) throws -> Tensor {
        let op = "Linalg.eigvalsh"
        let A = try MatrixBatch(a, op: op, name: "A", square: true)
        let needVectors = a.requiresGrad && GradMode.isEnabled
        let parts = try map(A, op, "A", a.shape) { _, m, ctx in try LAPACK.eigh(m, vectors: needVectors, ctx) }
        return try eigenvalueOp(a, A.batchShape, parts.map(\.values), parts.map(\.vectors), name: "linalg.eigvalsh")
    }

    private static func eigenvalueOp(_ a: Tensor, _ batchShape: [Int], _ W: [[Double]], _ V: [Matrix],
                                     name: String) throws -> Tensor {
        let n = a.shape[a.rank - 1]
        let wt = try makeTensor(batchShape, W, length: n)
        return try Tensor.customOp(name, inputs: [a], forward: { _ in wt }) { g, _, _ in
            let gs = g.scalars
            let gA = V.enumerated().map { b, v -> Matrix in
                var scaled = v
                for j in 0..<n { for i in 0..<n { scaled[i, j] *= Double(gs[b * n + j]) } }
                return LAPACK.matmul(scaled, v, transB: true)
            }
            return [try makeTensor(batchShape, gA, rows: n, cols: n)]
        }
    }

    /// Eigenvalues and right eigenvectors of each general square matrix of `a`
    /// `[..., n, n]` (LAPACK dgeev in Float64), like `numpy.linalg.eig`.
    ///
    /// - Returns: `values` `[..., n]` and `vectors` `[..., n, n]` (column j belongs to
    ///   value j, unit Euclidean norm, LAPACK's phase: largest component real) as
    ///   `ComplexTensor`s. Complex eigenvalues of a real matrix come in adjacent
    ///   conjugate pairs, positive imaginary part first, with conjugate eigenvectors.
    ///   Order as LAPACK returns it (not sorted). Not differentiable.
    /// - Throws: `CohortError.invalidArgument` for a non-square matrix or if the QR
    ///   algorithm does not converge; `CohortError.nonFinite` for NaN/Inf.
    public static func eig(_ a: Tensor) throws -> (values: ComplexTensor, vectors: ComplexTensor) {
        let op = "Linalg.eig"
        let A = try MatrixBatch(a, op: op, name: "A", square: true)
        let n = A.rows
        let parts = try map(A, op, "A", a.shape) { _, m, ctx in try LAPACK.eig(m, ctx) }
        var vre = [Matrix](), vim = [Matrix]()
        for p in parts {
            var re = Matrix(rows: n, cols: n), im = Matrix(rows: n, cols: n)
            var j = 0
            while j < n {
                if p.wi[j] != 0 && j + 1 < n {
                    for i in 0..<n {
                        re[i, j] = p.vr[i, j]; im[i, j] = p.vr[i, j + 1]
                        re[i, j + 1] = p.vr[i, j]; im[i, j + 1] = -p.vr[i, j + 1]
                    }
                    j += 2
                } else {
                    for i in 0..<n { re[i, j] = p.vr[i, j] }
                    j += 1
                }
            }
            vre.append(re)
            vim.append(im)
        }
        let values = ComplexTensor(real: try makeTensor(A.batchShape, parts.map(\.wr), length: n),
                                   imag: try makeTensor(A.batchShape, parts.map(\.wi), length: n))
        let vectors = ComplexTensor(real: try makeTensor(A.batchShape, vre, rows: n, cols: n),
                                    imag: try makeTensor(A.batchShape, vim, rows: n, cols: n))
        return (values, vectors)
    }
}
