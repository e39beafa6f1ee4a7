// LayerNorm: finite-difference gradients (affine, plain, strided input), values
// against the textbook composition of mean/variance ops, in-place accumulation
// into parameter gradients, and shape errors.
import CohortCore
import CohortKernels
@testable import CohortTensor
import CohortTestSupport
import Testing

@Suite struct LayerNormTests {
    @Test func gradientsWithWeightAndBias() throws {
        let x = Fixtures.uniform([3, 2, 7], seed: 1)
        let w = Fixtures.uniform([7], 0.5, 1.5, seed: 2), b = Fixtures.uniform([7], seed: 3)
        try expectGradients([x, w, b]) { try Tensor.layerNorm($0[0], weight: $0[1], bias: $0[2]) }
    }

    @Test func gradientsWithoutAffineAndOnStridedInput() throws {
        try expectGradients([Fixtures.uniform([4, 18], seed: 4)], "plain, n = 18 (SIMD body + tail)") {
            try Tensor.layerNorm($0[0], weight: nil, bias: nil)
        }
        let t = Fixtures.transposedLeaf([5, 6], seed: 5), w = Fixtures.uniform([6], seed: 6)
        try expectGradients([t, w], "transposed input, weight only") { try Tensor.layerNorm($0[0], weight: $0[1], bias: nil) }
        let b = Fixtures.uniform([6], seed: 7)
        try expectGradients([Fixtures.uniform([5, 6], seed: 8), b], "bias only") { try Tensor.layerNorm($0[0], weight: nil, bias: $0[1]) }
    }

    @Test func matchesComposition() throws {
        for n in [5, 16, 37, 256] {
            let x = Fixtures.uniform([6, n], -3, 2, seed: UInt64(n), requiresGrad: false)
            let w = Fixtures.uniform([n], seed: 11, requiresGrad: false), b = Fixtures.uniform([n], seed: 12, requiresGrad: false)
            let mu = try x.mean(axes: [-1], keepDims: true)
            let variance = try x.variance(axes: [-1], keepDims: true, correction: 0)
            let expected = try (x - mu) / (variance + 1e-5).sqrt() * w + b
            assertClose(try Tensor.layerNorm(x, weight: w, bias: b), expected, atol: 2e-5, rtol: 1e-4, "n = \(n)")
        }
    }

    @Test func backwardMatchesCompositionAndAccumulates() throws {
        let n = 37
        let x1 = Fixtures.uniform([9, n], seed: 20), w1 = Fixtures.uniform([n], seed: 21), b1 = Fixtures.uniform([n], seed: 22)
        let x2 = x1.copy(), w2 = w1.copy(), b2 = b1.copy()
        for t in [x2, w2, b2] { t.requiresGrad = true }
        let seed = Fixtures.uniform([9, n], seed: 23, requiresGrad: false)
        try Tensor.layerNorm(x1, weight: w1, bias: b1).backward(seed)
        let mu = try x2.mean(axes: [-1], keepDims: true)
        let variance = try x2.variance(axes: [-1], keepDims: true, correction: 0)
        try ((x2 - mu) / (variance + 1e-5).sqrt() * w2 + b2).backward(seed)
        assertClose(x1.grad!, x2.grad!, atol: 1e-4, rtol: 1e-4, "dx")
        assertClose(w1.grad!, w2.grad!, atol: 1e-4, rtol: 1e-4, "dweight")
        assertClose(b1.grad!, b2.grad!, atol: 1e-4, rtol: 1e-4, "dbias")
        // A second backward adds into the existing (contiguous) gradients in place.
        let wGrad = w1.grad!, before = wGrad.scalars
        try Tensor.layerNorm(x1, weight: w1, bias: b1).backward(seed)
        #expect(w1.grad === wGrad)
        assertClose(wGrad, before.map { 2 * $0 }, atol: 1e-5, rtol: 1e-5)
    }

    @Test func constantRowsStayFinite() throws {
        let x = Tensor.full([2, 8], 3, requiresGrad: true)
        let y = try Tensor.layerNorm(x, weight: nil, bias: nil)
        #expect(y.scalars.allSatisfy { $0 == 0 })
        try y.sum().backward()
        #expect(x.grad!.scalars.allSatisfy { $0.isFinite })
    }

    @Test func twoWorkersMatchOne() throws {
        let (rows, n) = (300, 256)
        let x = Fixtures.uniform([rows, n], seed: 30, requiresGrad: false), g = Fixtures.uniform([rows, n], seed: 31, requiresGrad: false)
        let w = Fixtures.uniform([n], seed: 32, requiresGrad: false), b = Fixtures.uniform([n], seed: 33, requiresGrad: false)
        func run(_ workers: Int) -> [[Float]] {
            let out = Tensor.zeros([rows, n]), stats = Tensor.zeros([2, rows]), dx = Tensor.zeros([rows, n])
            let dw = Tensor.zeros([n]), db = Tensor.zeros([n])
            LayerNormKernels.forward(rows: rows, n: n, x: x.base, weight: w.base, bias: b.base, eps: 1e-5, out: out.base,
                                     mean: stats.base, rstd: stats.base + rows, workers: workers)
            LayerNormKernels.backward(rows: rows, n: n, x: x.base, weight: w.base, mean: stats.base, rstd: stats.base + rows,
                                      g: g.base, dx: dx.base, dweight: dw.base, dbias: db.base, workers: workers)
            return [out.scalars, stats.scalars, dx.scalars, dw.scalars, db.scalars]
        }
        let one = run(1), two = run(2)
        #expect(one[0] == two[0] && one[1] == two[1] && one[2] == two[2], "rows are independent: identical bits")
        assertClose(two[3], one[3], atol: 1e-5, rtol: 1e-5, "dweight (partial sums per worker)")
        assertClose(two[4], one[4], atol: 1e-5, rtol: 1e-5, "dbias")
    }

    @Test func shapeErrors() throws {
        let x = Tensor.zeros([2, 4])
        #expect(throws: CohortError.self) { try Tensor.layerNorm(x, weight: Tensor.ones([3]), bias: nil) }
        #expect(throws: CohortError.self) { try Tensor.layerNorm(x, weight: nil, bias: Tensor.zeros([4, 1])) }
        #expect(throws: CohortError.self) { try Tensor.layerNorm(Tensor.scalar(1), weight: nil, bias: nil) }
    }
}
