// upsample2d: nearest and bilinear (align_corners = false) against PyTorch's
// index formulas written out per pixel, by factor and to a size (up and down),
// finite-difference gradients, strided input, argument errors.
import CohortCore
@testable import CohortTensor
import CohortTestSupport
import Testing

@Suite struct UpsampleGradTests {
    /// The output pixel (i, j) of one plane, from PyTorch's formulas.
    static func reference(_ x: [Float], _ h: Int, _ w: Int, _ oh: Int, _ ow: Int, _ sh: Float, _ sw: Float, bilinear: Bool) -> [Float] {
        func source(_ d: Int, _ s: Float, _ n: Int) -> (Int, Int, Float) {
            if !bilinear { return (min(Int((Float(d) * s).rounded(.down)), n - 1), 0, 0) }
            let src = max(s * (Float(d) + 0.5) - 0.5, 0), i0 = Int(src)
            return (i0, i0 < n - 1 ? 1 : 0, src - Float(i0))
        }
        var out: [Float] = []
        for i in 0..<oh {
            let (r, dr, a) = source(i, sh, h)
            for j in 0..<ow {
                let (c, dc, b) = source(j, sw, w)
                let v00 = x[r * w + c], v01 = x[r * w + c + dc], v10 = x[(r + dr) * w + c], v11 = x[(r + dr) * w + c + dc]
                out.append((1 - a) * ((1 - b) * v00 + b * v01) + a * ((1 - b) * v10 + b * v11))
            }
        }
        return out
    }

    static let cases: [(size: IntOrPair?, factor: Float?, oh: Int, ow: Int)] = [
        (nil, 2, 8, 10), (nil, 3, 12, 15), (nil, 1.5, 6, 7), ([7, 3], nil, 7, 3), ([9, 12], nil, 9, 12), ([2, 2], nil, 2, 2),
    ]

    @Test(arguments: UpsampleMode.allCases, 0..<cases.count) func matchesFormulas(mode: UpsampleMode, index: Int) throws {
        let k = Self.cases[index]
        let x = Fixtures.uniform([2, 3, 4, 5], seed: 70)
        let y = try Tensor.upsample2d(x, size: k.size, scaleFactor: k.factor, mode: mode)
        #expect(y.shape == [2, 3, k.oh, k.ow])
        let sh = k.factor.map { Float(1 / Double($0)) } ?? 4 / Float(k.oh), sw = k.factor.map { Float(1 / Double($0)) } ?? 5 / Float(k.ow)
        var expected: [Float] = []
        for p in 0..<6 {
            expected += Self.reference(Array(x.scalars[p * 20..<(p + 1) * 20]), 4, 5, k.oh, k.ow, sh, sw, bilinear: mode == .bilinear)
        }
        assertClose(y.scalars, expected, atol: 1e-6, "\(mode) \(k)")
        try expectGradients([x], "\(mode) \(k)") { try Tensor.upsample2d($0[0], size: k.size, scaleFactor: k.factor, mode: mode) }
    }

    @Test(arguments: UpsampleMode.allCases) func stridedInput(mode: UpsampleMode) throws {
        let x = Fixtures.transposedLeaf([1, 2, 3, 4], seed: 71)
        try expectGradients([x], "\(mode)") { try Tensor.upsample2d($0[0], scaleFactor: 2, mode: mode) }
    }

    @Test func rejectsBadArguments() throws {
        let x = Tensor.zeros([1, 1, 2, 2])
        #expect(throws: CohortError.self) { try Tensor.upsample2d(x) }
        #expect(throws: CohortError.self) { try Tensor.upsample2d(x, size: 4, scaleFactor: 2) }
        #expect(throws: CohortError.self) { try Tensor.upsample2d(x, scaleFactor: 0.2) }
        #expect(throws: CohortError.self) { try Tensor.upsample2d(Tensor.zeros([2, 2, 2])) }
    }
}
