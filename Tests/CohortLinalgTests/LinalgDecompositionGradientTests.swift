// Finite-difference checks (CohortTestSupport.gradcheck, Float32, eps 1e-2) of the SVD,
// svdvals, pinv and QR gradients. Inputs are diag(4, 2.5, 1) (padded to m×n) plus
// uniform noise in ±0.2, so singular values stay well separated and away from zero.
// Singular vectors are defined up to a joint sign of (uᵢ, vᵢ): the checked functions
// (U ∘ U, Vh ∘ Vh, U·Vh, s) do not depend on it.
import Testing
import CohortLinalg
import CohortTensor
import CohortTestSupport

@Suite struct LinalgDecompositionGradientTests {
    /// A constant `[m, n]` with 4, 2.5, 1 on its diagonal (as far as it reaches).
    static func spread(_ m: Int, _ n: Int) -> Tensor {
        var values = [Float](repeating: 0, count: m * n)
        for (i, d) in [Float(4), 2.5, 1].prefix(Swift.min(m, n)).enumerated() { values[i * n + i] = d }
        return try! Tensor(values, shape: [m, n])
    }

    /// The shapes every decomposition is checked on: tall, wide, square, and a batch.
    static let shapes: [(batch: [Int], m: Int, n: Int)] = [([], 4, 3), ([], 3, 4), ([], 3, 3), ([2], 4, 3)]

    @Test func singularValueGradients() throws {
        for (i, c) in Self.shapes.enumerated() {
            let d = Self.spread(c.m, c.n), x = Fixtures.uniform(c.batch + [c.m, c.n], -0.2, 0.2, seed: 20 + UInt64(i))
            try expectGradients([x], "svdvals \(c)") { try Linalg.svdvals(d + $0[0]) }
            try expectGradients([x], "svd s \(c)") { try Linalg.svd(d + $0[0], fullMatrices: false).s }
        }
    }

    @Test func leftSingularVectorGradients() throws {
        for (i, c) in Self.shapes.enumerated() {
            let d = Self.spread(c.m, c.n), x = Fixtures.uniform(c.batch + [c.m, c.n], -0.2, 0.2, seed: 30 + UInt64(i))
            try expectGradients([x], "U ∘ U \(c)") {
                let u = try Linalg.svd(d + $0[0], fullMatrices: false).u
                return try u * u
            }
        }
    }

    @Test func rightSingularVectorGradients() throws {
        for (i, c) in Self.shapes.enumerated() {
            let d = Self.spread(c.m, c.n), x = Fixtures.uniform(c.batch + [c.m, c.n], -0.2, 0.2, seed: 40 + UInt64(i))
            try expectGradients([x], "Vh ∘ Vh \(c)") {
                let vh = try Linalg.svd(d + $0[0], fullMatrices: false).vh
                return try vh * vh
            }
        }
    }

    /// U·Vh (the orthogonal polar factor) is sign-invariant and mixes both vector gradients;
    /// weighting by s as well checks all three outputs of one decomposition together.
    @Test func combinedSingularVectorGradients() throws {
        for (i, c) in Self.shapes.enumerated() {
            let d = Self.spread(c.m, c.n), x = Fixtures.uniform(c.batch + [c.m, c.n], -0.2, 0.2, seed: 50 + UInt64(i))
            try expectGradients([x], "U Vh \(c)") {
                let (u, _, vh) = try Linalg.svd(d + $0[0], fullMatrices: false)
                return try Tensor.matmul(u, vh)
            }
            try expectGradients([x], "U diag(s²) Vh \(c)") {
                let (u, s, vh) = try Linalg.svd(d + $0[0], fullMatrices: false)
                return try Tensor.matmul(u * (s * s).unsqueeze(-2), vh)
            }
        }
    }

    /// With full matrices the extra columns of U (rows of Vh) get no gradient; for a
    /// square matrix full and reduced agree.
    @Test func fullMatricesGradients() throws {
        let d = Self.spread(3, 3), x = Fixtures.uniform([3, 3], -0.2, 0.2, seed: 60)
        try expectGradients([x], "full U ∘ U, square") {
            let u = try Linalg.svd(d + $0[0], fullMatrices: true).u
            return try u * u
        }
        let tall = Self.spread(4, 3), y = Fixtures.uniform([4, 3], -0.2, 0.2, seed: 61)
        try expectGradients([y], "full U of a tall matrix, first k columns") {
            let u = try Linalg.svd(tall + $0[0], fullMatrices: true).u
            return try (u * u).slice(axis: 1, 0, 3)
        }
    }

    @Test func pseudoInverseGradients() throws {
        for (i, c) in Self.shapes.enumerated() {
            let d = Self.spread(c.m, c.n), x = Fixtures.uniform(c.batch + [c.m, c.n], -0.2, 0.2, seed: 70 + UInt64(i))
            try expectGradients([x], "pinv \(c)") { try Linalg.pinv(d + $0[0]) }
        }
    }

    @Test func qrGradients() throws {
        for (i, c) in [([Int](), 4, 3), ([], 3, 3), ([2], 5, 2)].enumerated() {
            let d = Self.spread(c.1, c.2), x = Fixtures.uniform(c.0 + [c.1, c.2], -0.2, 0.2, seed: 80 + UInt64(i))
            try expectGradients([x], "Q \(c)") { try Linalg.qr(d + $0[0]).q }
            try expectGradients([x], "R \(c)") { try Linalg.qr(d + $0[0]).r }
            try expectGradients([x], "(Q ∘ Q) R, both outputs \(c)") {
                let (q, r) = try Linalg.qr(d + $0[0])
                return try Tensor.matmul(q * q, r)
            }
        }
        let square = Fixtures.uniform([3, 3], -0.2, 0.2, seed: 90)
        try expectGradients([square], "Q, mode .complete of a square matrix") {
            try Linalg.qr(Self.spread(3, 3) + $0[0], mode: .complete).q
        }
    }
}
