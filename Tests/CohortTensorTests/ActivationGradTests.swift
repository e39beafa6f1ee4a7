// LeakyReLU, ELU, SiLU, Softplus, Mish and PReLU: values against the scalar
// definitions in Double, finite-difference gradients on contiguous (SIMD blocks
// plus a tail) and strided inputs kept away from the kinks, PReLU's slope gradient
// (shared and per channel), and PReLU's shape error.
import CohortCore
import Foundation
import Testing
@testable import CohortTensor
import CohortTestSupport

@Suite struct ActivationGradTests {
    typealias Op = @Sendable (Tensor) -> Tensor
    typealias Reference = @Sendable (Double) -> Double

    static func softplus(_ x: Double, _ beta: Double, _ threshold: Double) -> Double {
        beta * x > threshold ? x : Foundation.log1p(Foundation.exp(beta * x)) / beta
    }

    static let cases: [(String, Op, Reference)] = [
        ("leakyRelu", { $0.leakyRelu() }, { $0 > 0 ? $0 : 0.01 * $0 }),
        ("leakyRelu 0.2", { $0.leakyRelu(negativeSlope: 0.2) }, { $0 > 0 ? $0 : 0.2 * $0 }),
        ("elu", { $0.elu() }, { $0 > 0 ? $0 : Foundation.exp($0) - 1 }),
        ("elu 0.7", { $0.elu(alpha: 0.7) }, { $0 > 0 ? $0 : 0.7 * (Foundation.exp($0) - 1) }),
        ("silu", { $0.silu() }, { $0 / (1 + Foundation.exp(-$0)) }),
        ("softplus", { $0.softplus() }, { softplus($0, 1, 20) }),
        ("softplus beta 2", { $0.softplus(beta: 2) }, { softplus($0, 2, 20) }),
        ("mish", { $0.mish() }, { $0 * Foundation.tanh(softplus($0, 1, 20)) }),
    ]

    @Test(arguments: 0..<cases.count) func matchesDefinition(index: Int) throws {
        let (name, f, reference) = Self.cases[index]
        // Large magnitudes reach the overflow guards (exp, softplus's threshold, mish's clamp).
        let values: [Float] = [-30, -8, -2, -0.5, -1e-3, 0, 1e-3, 0.5, 2, 8, 19, 21, 30, 90] + (0..<23).map { Float($0) / 4 - 3 }
        let y = f(try Tensor(values))
        assertClose(y, values.map { Float(reference(Double($0))) }, atol: 2e-6, rtol: 2e-6, name)
    }

    @Test(arguments: 0..<cases.count) func gradients(index: Int) throws {
        let (name, f, _) = Self.cases[index]
        // 37 elements: two full 16-lane SIMD blocks plus a tail; away from the kink at 0.
        let x = Fixtures.awayFromZero([37], 0.05, 3, seed: UInt64(300 + index))
        try expectGradients([x], name) { f($0[0]) }
        let s = Fixtures.awayFromZero([3, 5], 0.05, 3, seed: UInt64(400 + index))
        try expectGradients([s], "\(name) of transpose") { f(try $0[0].transpose()) }
        try expectGradients([s], "\(name) of stepped slice") { f(try $0[0].slice(axis: 1, 0, 5, step: 2)) }
    }

    /// The vector log(1 + eᶻ) keeps its relative accuracy in the far negative tail (softplus ≈ eˣ).
    @Test func softplusRelativeAccuracyInTail() throws {
        let values: [Float] = (0..<64).map { -40 + Float($0) * 0.6 }
        let y = try Tensor(values).softplus()
        assertClose(y, values.map { Float(Self.softplus(Double($0), 1, 20)) }, atol: 0, rtol: 1e-5)
    }

    @Test func softplusThresholdIsLinearAbove() throws {
        let y = try Tensor([0.5, 1, 2]).softplus(beta: 2, threshold: 1.5)
        assertClose(y, [Float(Self.softplus(0.5, 2, 1.5)), 1, 2], atol: 1e-6)
    }

    @Test(arguments: [[2, 3, 4, 5], [4, 3], [3, 3, 7]]) func preluPerChannel(shape: [Int]) throws {
        let x = Fixtures.awayFromZero(shape, 0.05, 2, seed: 500)
        let w = Fixtures.uniform([3], 0.05, 0.6, seed: 501)
        try expectGradients([x, w], "prelu \(shape)") { try Tensor.prelu($0[0], weight: $0[1]) }
        let y = try Tensor.prelu(x, weight: w)
        let inner = shape.count > 2 ? shape[2...].reduce(1, *) : 1
        let expected = x.scalars.enumerated().map { i, v in v > 0 ? v : w.scalars[(i / inner) % 3] * v }
        assertClose(y, expected, atol: 1e-6)
    }

    @Test func preluShared() throws {
        let x = Fixtures.awayFromZero([2, 4, 3], 0.05, 2, seed: 502)
        let w = Fixtures.uniform([1], 0.05, 0.6, seed: 503)
        try expectGradients([x, w], "prelu shared") { try Tensor.prelu($0[0], weight: $0[1]) }
        let t = Fixtures.transposedLeaf([3, 5], seed: 504)
        try expectGradients([t, w], "prelu shared, transposed input") { try Tensor.prelu($0[0], weight: $0[1]) }
    }

    @Test func preluRejectsWrongSlopeCount() throws {
        // Below rank 2 there is no channel dimension: one slope only, as torch.nn.functional.prelu.
        #expect(throws: CohortError.self) { try Tensor.prelu(Tensor.zeros([3]), weight: Tensor.zeros([3])) }
        let v = Fixtures.awayFromZero([7], 0.05, 1, seed: 505), s = Fixtures.uniform([1], 0.05, 0.6, seed: 506)
        try expectGradients([v, s], "prelu rank 1") { try Tensor.prelu($0[0], weight: $0[1]) }
        let x = Tensor.zeros([2, 3, 4])
        #expect { try Tensor.prelu(x, weight: Tensor.zeros([4])) } throws: { e in
            "\(e)".contains("[4]") && "\(e)".contains("[2, 3, 4]")
        }
    }
}
