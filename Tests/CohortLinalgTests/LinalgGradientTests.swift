// Finite-difference checks (CohortTestSupport.gradcheck, Float32, eps 1e-2) of every
// differentiable op: solve, inverse, det, slogdet, logdet, cholesky, eigvalsh, eigh.
// Inputs are well conditioned (diagonal +3 or +n) so the Float32 central differences
// are accurate to ~1e-4 and the default tolerances (atol 1e-3, rtol 1e-2) suffice.
// Symmetric-input ops are checked through sym(X) = (X + Xᵀ)/2, as PyTorch does.
import Testing
import CohortLinalg
import CohortTensor
import CohortTestSupport

@Suite struct LinalgGradientTests {
    /// A leaf `batch + [n, n]` with uniform entries in [-1, 1) plus `shift` on the diagonal.
    static func shifted(_ batch: [Int], _ n: Int, shift: Float = 3, seed: UInt64) -> Tensor {
        var values = Fixtures.uniform(batch + [n, n], seed: seed, requiresGrad: false).scalars
        for b in 0..<(values.count / (n * n)) { for i in 0..<n { values[b * n * n + i * n + i] += shift } }
        return try! Tensor(values, shape: batch + [n, n], requiresGrad: true)
    }

    static func sym(_ x: Tensor) throws -> Tensor { try (x + x.transpose(-2, -1)) * 0.5 }

    @Test func solveGradients() throws {
        let a = Self.shifted([], 3, seed: 1), b = Fixtures.uniform([3, 2], seed: 2)
        try expectGradients([a, b], "solve matrix rhs") { try Linalg.solve($0[0], $0[1]) }
        let v = Fixtures.uniform([3], seed: 3)
        try expectGradients([a, v], "solve vector rhs") { try Linalg.solve($0[0], $0[1]) }
        let ab = Self.shifted([2], 3, seed: 4), bb = Fixtures.uniform([2, 3, 2], seed: 5)
        try expectGradients([ab, bb], "solve batched") { try Linalg.solve($0[0], $0[1]) }
    }

    @Test func inverseGradients() throws {
        try expectGradients([Self.shifted([2], 3, seed: 6)], "inverse batched") { try Linalg.inverse($0[0]) }
    }

    @Test func determinantGradients() throws {
        let a = Self.shifted([2], 3, shift: 2, seed: 7)
        try expectGradients([a], "det") { try Linalg.det($0[0]) }
        try expectGradients([a], "slogdet") { try Linalg.slogdet($0[0]).logAbsDet }
        try expectGradients([a], "logdet") { try Linalg.logdet($0[0]) }
        // A negative determinant: log|det| is still smooth.
        let neg = try Tensor([0.2, 1.5, 0.1, 1.2, 0.3, -0.4, 0.5, 0.1, 2.0], shape: [3, 3], requiresGrad: true)
        #expect(try Linalg.slogdet(neg).sign.item() == -1)
        try expectGradients([neg], "slogdet, negative det") { try Linalg.slogdet($0[0]).logAbsDet }
    }

    @Test func choleskyGradients() throws {
        let x = Self.shifted([2], 3, seed: 8)
        try expectGradients([x], "cholesky of sym(X)") { try Linalg.cholesky(Self.sym($0[0])) }
    }

    @Test func eigenvalueGradients() throws {
        let x = Self.shifted([2], 3, seed: 9)
        try expectGradients([x], "eigvalsh of sym(X)") { try Linalg.eigvalsh(Self.sym($0[0])) }
        try expectGradients([x], "eigh values of sym(X)") { try Linalg.eigh(Self.sym($0[0])).values }
    }

    /// Eigenvectors are defined up to sign, so the checked function is V ∘ V.
    @Test func eigenvectorGradients() throws {
        let d = try Tensor([0, 0, 0, 0, 2, 0, 0, 0, 4], shape: [3, 3])
        let x = Fixtures.uniform([3, 3], -0.3, 0.3, seed: 10)
        try expectGradients([x], "eigh vectors (squared) of diag(0,2,4) + sym(X)") {
            let v = try Linalg.eigh(try d + Self.sym($0[0])).vectors
            return try v * v
        }
    }
}
