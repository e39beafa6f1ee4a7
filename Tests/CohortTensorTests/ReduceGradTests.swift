// Finite-difference checks of the reductions over every kind of axis set
// (single, leading block, trailing block, non-adjacent [0, 2], all), with
// keepDims both ways and strided inputs; max/min use tie-free inputs.
import Testing
@testable import CohortTensor
import CohortTestSupport

@Suite struct ReduceGradTests {
    /// Axis sets of a rank-3 tensor covering the row, column, permuted and full paths.
    static let axisSets: [[Int]?] = [nil, [0], [1], [-1], [0, 1], [1, 2], [0, 2], [2, 0], [0, 1, 2]]

    typealias Reduction = @Sendable (Tensor, [Int]?, Bool) throws -> Tensor
    static let smooth: [(String, Reduction)] = [
        ("sum", { try $0.sum(axes: $1, keepDims: $2) }),
        ("mean", { try $0.mean(axes: $1, keepDims: $2) }),
        ("variance", { try $0.variance(axes: $1, keepDims: $2) }),
        ("variance correction 0", { try $0.variance(axes: $1, keepDims: $2, correction: 0) }),
        ("logsumexp", { try $0.logsumexp(axes: $1, keepDims: $2) }),
        ("norm", { try $0.norm(axes: $1, keepDims: $2) }),
        ("norm p=3", { try $0.norm(p: 3, axes: $1, keepDims: $2) }),
        ("norm p=1", { try $0.norm(p: 1, axes: $1, keepDims: $2) }),
    ]
    static let extrema: [(String, Reduction)] = [
        ("max", { try $0.max(axes: $1, keepDims: $2) }),
        ("min", { try $0.min(axes: $1, keepDims: $2) }),
        ("norm p=inf", { try $0.norm(p: .infinity, axes: $1, keepDims: $2) }),
    ]

    @Test(arguments: 0..<smooth.count) func smoothReductions(index: Int) throws {
        let (name, f) = Self.smooth[index]
        // Away from zero so |x| (norm p=1, p=3) is smooth; a strided leaf of the same shape too.
        let x = Fixtures.awayFromZero([2, 3, 4], 0.2, 1.5, seed: UInt64(10 + index))
        let t = Fixtures.transposedLeaf([2, 4, 3], 0.2, 1.5, seed: UInt64(20 + index))
        for axes in Self.axisSets {
            for keep in [false, true] {
                try expectGradients([x], "\(name) axes \(String(describing: axes)) keepDims \(keep)") { try f($0[0], axes, keep) }
            }
            try expectGradients([t], "\(name) strided axes \(String(describing: axes))") { try f($0[0], axes, false) }
        }
    }

    @Test(arguments: 0..<extrema.count) func extremaWithoutTies(index: Int) throws {
        let (name, f) = Self.extrema[index]
        // Magnitudes 0.3 … 2.6 in steps of 0.1 with random signs: no ties in value or in |value|.
        let d = Fixtures.distinct([2, 3, 4], spacing: 0.1, start: 0.3, seed: UInt64(30 + index), requiresGrad: false)
        let signs = Fixtures.awayFromZero([24], seed: UInt64(40 + index), requiresGrad: false).scalars
        let x = try Tensor(zip(d.scalars, signs).map { $1 < 0 ? -$0 : $0 }, shape: [2, 3, 4], requiresGrad: true)
        for axes in Self.axisSets {
            for keep in [false, true] {
                try expectGradients([x], "\(name) axes \(String(describing: axes)) keepDims \(keep)") { try f($0[0], axes, keep) }
            }
            try expectGradients([x], "\(name) of permuted view, axes \(String(describing: axes))") { try f($0[0].permute([2, 0, 1]), axes, false) }
        }
    }

    @Test func tiedExtremaShareTheGradient() throws {
        let x = try Tensor([1, 3, 3, -2, -2, 0], shape: [2, 3], requiresGrad: true)
        try x.max(axes: [1]).sum().backward()
        #expect(x.grad?.scalars == [0, 0.5, 0.5, 0, 0, 1])
        x.grad = nil
        try x.min().backward()
        #expect(x.grad?.scalars == [0, 0, 0, 0.5, 0.5, 0])
    }

    @Test func reductionsCompose() throws {
        let x = Fixtures.uniform([3, 4], seed: 50)
        // Layer-norm-like: (x - mean) / sqrt(var + eps) along the last axis.
        try expectGradients([x]) { v in
            let mu = try v[0].mean(axes: [-1], keepDims: true)
            let sd = try (v[0].variance(axes: [-1], keepDims: true, correction: 0) + 1e-3).sqrt()
            return try (v[0] - mu) / sd
        }
        try expectGradients([x]) { v in try v[0].logsumexp(axes: [0]).mean() }
    }

    @Test func logsumexpIsStableForLargeInputs() throws {
        let x = try Tensor([1000, 1000, -1000, -Float.infinity], shape: [2, 2], requiresGrad: true)
        let l = try x.logsumexp(axes: [1])
        assertClose(l, [1000 + Float(Glibc.log(2.0)), -1000], atol: 1e-3, rtol: 1e-6)
        try l.sum().backward()
        assertClose(try #require(x.grad), [0.5, 0.5, 1, 0])
        let allNegInf = try Tensor([-Float.infinity, -Float.infinity]).logsumexp()
        #expect(try allNegInf.item() == -.infinity)
    }
}

#if canImport(Glibc)
import Glibc
#endif
