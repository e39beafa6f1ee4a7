// `Linalg`: NumPy / torch.linalg-style linear algebra on Cohort tensors. Inputs are
// Float32 tensors `[..., m, n]`; every routine converts to a column-major Float64
// copy, calls OpenBLAS's LAPACK, and rounds results back to Float32. See docs/linalg.md.
import CohortTensor

/// Linear algebra on `Tensor`s: solve, inverse, determinants, factorizations,
/// eigen- and singular-value decompositions, least squares, norms.
///
/// Conventions shared by every function (details in `docs/linalg.md`):
/// - Matrices are the last two dimensions; leading dimensions are a batch (which
///   may be empty, `[0, n, n]`, or absent). Results are Float32 tensors computed in
///   Float64.
/// - NaN or Inf in an input throws `CohortError.nonFinite` naming the op and element;
///   a non-square matrix where one is needed throws `CohortError.invalidArgument`
///   naming the shape.
/// - `solve`, `inverse`, `det`, `slogdet`, `logdet`, `cholesky`, `qr`, `eigh`,
///   `eigvalsh`, `svd`, `svdvals` and `pinv` are differentiable; the others return
///   tensors that do not require gradients.
public enum Linalg {}

extension Linalg {
    /// Runs `body` on every matrix of `batch`, handing it an error context that names
    /// the op, the input and (for batches) the matrix index.
    static func map<R>(_ batch: MatrixBatch, _ op: String, _ name: String, _ shape: [Int],
                       _ body: (Int, Matrix, String) throws -> R) throws -> [R] {
        try batch.matrices.enumerated().map { i, m in
            try body(i, m, MatrixBatch.context(op, name, shape, index: i, batchCount: batch.count))
        }
    }
}
