// The public gradientCheck: passes on correct gradients, reports the worst
// element of a wrong one, and checks autograd through a small MLP.
import CohortCalculus
import CohortCore
import CohortNN
import CohortTensor
import Foundation
import Testing

@Suite struct GradientCheckTests {
    @Test func float64FormPassesAndLocatesAWrongElement() throws {
        let f: ([Double]) -> Double = { x in x[0] * x[0] * x[1] + sin(x[2]) }
        let right: ([Double]) -> [Double] = { x in [2 * x[0] * x[1], x[0] * x[0], cos(x[2])] }
        let ok = try gradientCheck(f, gradient: right, at: [0.3, -1.2, 0.7])
        #expect(ok.passed && ok.maxAbsError < 1e-8, "\(ok)")
        let wrong = try gradientCheck(f, gradient: { var g = right($0); g[1] *= 1.01; return g }, at: [0.3, -1.2, 0.7])
        #expect(!wrong.passed && wrong.inputs[0].worstIndex == [1], "\(wrong)")
        #expect(Swift.abs(wrong.inputs[0].maxRelError - 0.01 / 1.01) < 1e-6)
    }

    @Test func tensorFormChecksAutogradThroughAnMLP() throws {
        var g = RandomGenerator(seed: 3)
        let model = Sequential([Linear(4, 5, generator: &g), Tanh(), Linear(5, 2, generator: &g)])
        let x = Tensor.randn([3, 4], generator: &g)
        x.requiresGrad = true
        let report = try gradientCheck({ try model($0[0]) }, at: [x])
        #expect(report.passed, "\(report)")
        #expect(x.grad == nil)
        #expect(report.inputs.count == 1 && report.inputs[0].worstIndex.count == 2)
    }

    @Test func aNonDifferentiableOutputIsReported() throws {
        let x = try Tensor([1, 2], requiresGrad: true)
        #expect(throws: CohortError.invalidArgument("gradientCheck: the output (shape [2]) does not depend on any input with requiresGrad")) {
            try gradientCheck({ $0[0].detached() }, at: [x])
        }
    }
}
