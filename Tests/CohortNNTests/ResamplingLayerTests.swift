// The new layers as modules: parameter names and shapes as PyTorch's (so state dicts
// map one to one), PyTorch's default initialisation bounds, gradients through the
// modules' parameters, Module.summary's output shapes against a real forward pass and
// its FLOPs against hand counts, and the errors naming the layer.
import CohortCore
@testable import CohortNN
import CohortTensor
import CohortTestSupport
import Testing

@Suite struct ResamplingLayerTests {
    @Test func parameterNamesShapesAndInitialisation() throws {
        var g = RandomGenerator(seed: 5)
        let t = try ConvTranspose2d(4, 6, kernelSize: 3, stride: 2, groups: 2, generator: &g)
        #expect(t.namedParameters().map(\.name) == ["weight", "bias"])
        #expect(t.weight.shape == [4, 3, 3, 3] && t.bias!.shape == [6])
        // fan_in = weight.size(1)·k·k = 27 for both, as torch computes it for ConvTranspose2d.
        let bound = 1 / Float(27).squareRoot()
        #expect(t.weight.scalars.allSatisfy { Swift.abs($0) <= bound } && t.bias!.scalars.allSatisfy { Swift.abs($0) <= bound })
        let c = try Conv1d(4, 6, kernelSize: 5, groups: 2, bias: false, generator: &g)
        #expect(c.namedParameters().map(\.name) == ["weight"] && c.weight.shape == [6, 2, 5])
        let p = try PReLU(numParameters: 3)
        #expect(p.namedParameters().map(\.name) == ["weight"] && p.weight.scalars == [0.25, 0.25, 0.25])
        #expect(try Upsample(scaleFactor: 2).parameterCount == 0)
    }

    @Test func gradientsThroughModules() throws {
        var g = RandomGenerator(seed: 6)
        let net = Sequential([try ConvTranspose2d(2, 4, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, groups: 2, generator: &g),
                              try Upsample(scaleFactor: 1.5, mode: .bilinear), Mish()])
        let x = Fixtures.uniform([2, 2, 3, 3], seed: 7)
        try expectGradients([x] + net.parameters(), "ConvTranspose2d → Upsample → Mish") { _ in try net.forward(x) }
        // PReLU alone, on inputs away from its kink (after a convolution, a perturbation of the
        // bias would move outputs across 0 and the finite difference across the kink).
        let prelu = try PReLU(numParameters: 4)
        let h = Fixtures.awayFromZero([2, 4, 3], 0.05, 1, seed: 11)
        try expectGradients([h] + prelu.parameters(), "PReLU(4)") { _ in try prelu.forward(h) }
        let conv = try Conv1d(3, 4, kernelSize: 3, stride: 2, padding: 1, generator: &g)
        let s = Fixtures.uniform([2, 3, 8], seed: 8)
        try expectGradients([s] + conv.parameters(), "Conv1d → SiLU") { _ in try conv.forward(s).silu() }
    }

    @Test func summaryShapesAndFLOPs() throws {
        var g = RandomGenerator(seed: 9)
        let up = Sequential([try ConvTranspose2d(4, 2, kernelSize: 4, stride: 2, padding: 1, generator: &g), LeakyReLU(),
                             try Upsample(size: [10, 12], mode: .bilinear), ELU(), Softplus()])
        let s = try up.summary(inputShape: [3, 4, 5, 6])
        #expect(s.outputShape == (try up.forward(Tensor.zeros([3, 4, 5, 6]))).shape)
        #expect(s.layers.first { $0.type == "ConvTranspose2d" }?.outputShape == [3, 2, 10, 12])
        // 2·(O/groups)·kh·kw per input element, plus the bias per output.
        #expect(s.layers.first { $0.type == "ConvTranspose2d" }?.flops == 2 * 3 * 4 * 5 * 6 * 2 * 16 + 3 * 2 * 10 * 12)
        let conv = try Conv1d(3, 4, kernelSize: 3, stride: 2, padding: 1, generator: &g)
        let c = try conv.summary(inputShape: [2, 3, 9])
        #expect(c.outputShape == [2, 4, 5] && c.flops == 2 * 4 * 5 * (2 * 3 * 3 + 1))
        #expect(throws: CohortError.self) { try conv.summary(inputShape: [2, 4, 9]) }
    }

    @Test func errorsNameTheLayer() throws {
        var g = RandomGenerator(seed: 10)
        let t = try ConvTranspose2d(4, 2, kernelSize: 3, generator: &g)
        #expect { try t.forward(Tensor.zeros([1, 3, 5, 5])) } throws: { "\($0)".contains("ConvTranspose2d") && "\($0)".contains("[1, 3, 5, 5]") }
        #expect(throws: CohortError.self) { try ConvTranspose2d(4, 2, kernelSize: 3, stride: 2, outputPadding: 2, generator: &g) }
        #expect(throws: CohortError.self) { try Upsample() }
        #expect(throws: CohortError.self) { try PReLU(numParameters: 0) }
        let c = try Conv1d(3, 4, kernelSize: 3, generator: &g)
        #expect { try c.forward(Tensor.zeros([2, 5, 9])) } throws: { "\($0)".contains("Conv1d") && "\($0)".contains("[2, 5, 9]") }
    }
}
