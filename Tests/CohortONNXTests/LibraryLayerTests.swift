// Networks built from the library's layers beyond the built-in models' — strided,
// padded and grouped convolutions, average and adaptive pooling, BatchNorm1d, Unflatten,
// Dropout, Sigmoid/Tanh, GRU and RNN stacks, a tied CharLSTM head, non-causal
// attention — exported and run by ONNX Runtime against Cohort's forward (1e-4).
import CohortNN
import CohortONNX
import CohortTensor
import Foundation
import Testing

@Suite(.serialized) struct LibraryLayerTests {
    /// Exports `model`, runs both sides on `inputs` (`[64] + sample`) and returns the report.
    static func compare(_ model: any Module, input: ONNXInputSpec, inputs: [Float], sample: [Int]) throws -> ONNXReference.Report {
        try randomizeBuffers(model)
        let onnx = try ONNXExporter.export(model, input: input)
        let dir = try ONNXReference.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.onnx").path
        try onnx.write(to: path)
        let y = try withNoGrad { try model(Tensor(inputs, shape: [64] + sample)) }
        return try ONNXReference.check(model: path, inputs: inputs, inputShape: [64] + sample, expected: y.scalars, expectedShape: y.shape)
    }

    static func randomizeBuffers(_ m: any Module) throws {
        var g = RandomGenerator(seed: 99)
        for (name, t) in m.namedBuffers() {
            try t.assign(name.hasSuffix("running_var") ? Tensor.rand(t.shape, low: 0.5, high: 2, generator: &g)
                                                       : Tensor.rand(t.shape, low: -0.5, high: 0.5, generator: &g))
        }
    }

    static func expectClose(_ r: ONNXReference.Report, _ what: String) {
        #expect((r.batchN ?? .infinity) <= 1e-4 && (r.batch1 ?? .infinity) <= 1e-4, "\(what): \(r.json)")
    }

    @Test func convolutionalLayers() throws {
        var g = RandomGenerator(seed: 21)
        let model = Sequential([
            Unflatten(axis: 1, sizes: [2, 12, 12]),
            try Conv2d(2, 8, kernelSize: IntOrPair(3, 2), stride: IntOrPair(1, 2), padding: IntOrPair(1, 0), generator: &g),
            BatchNorm2d(8), Tanh(),
            try Conv2d(8, 8, kernelSize: 3, padding: 1, dilation: 2, groups: 4, bias: false, generator: &g),
            AvgPool2d(2, padding: 1), Sigmoid(),
            AdaptiveAvgPool2d(IntOrPair(1, 1)), Flatten(), try Dropout(0.3), BatchNorm1d(8), Linear(8, 4, generator: &g), Softmax(),
        ])
        let inputs = Tensor.rand([64 * 288], generator: &g).scalars
        Self.expectClose(try Self.compare(model, input: ONNXInputSpec(type: .float, shape: [.named("batch"), .fixed(288)]),
                                          inputs: inputs, sample: [288]), "conv stack")
    }

    @Test func recurrentAndAttentionLayers() throws {
        var g = RandomGenerator(seed: 22)
        let model = Sequential([
            try GRU(inputSize: 6, hiddenSize: 10, layers: 2, generator: &g),
            try RNN(inputSize: 10, hiddenSize: 8, generator: &g),
            try MultiHeadSelfAttention(dModel: 8, heads: 2, causal: false, generator: &g),
            LayerNorm(8, affine: false), GELU(), Linear(8, 3, generator: &g),
        ])
        let inputs = Tensor.randn([64 * 5 * 6], generator: &g).scalars
        Self.expectClose(try Self.compare(model, input: ONNXInputSpec(type: .float, shape: [.named("batch"), .named("sequence"), .fixed(6)]),
                                          inputs: inputs, sample: [5, 6]), "GRU/RNN/attention")
    }

    @Test func tiedCharLSTM() throws {
        var g = RandomGenerator(seed: 23)
        let model = try CharLSTM(vocabularySize: 20, embeddingDim: 12, hidden: 12, layers: 1, tieWeights: true, generator: &g)
        try model.tiedBias!.assign(Tensor.rand([20], generator: &g))
        let ids = (0..<(64 * 7)).map { _ in Float(Int(g.nextDouble() * 20) % 20) }
        Self.expectClose(try Self.compare(model, input: ONNXInputSpec(type: .int64, shape: [.named("batch"), .named("sequence")]),
                                          inputs: ids, sample: [7]), "tied CharLSTM")
    }
}

/// The layers of issue 18 item 1: activations, Conv1d, ConvTranspose2d and Upsample, through ONNX Runtime.
@Suite(.serialized) struct ResamplingLayerExportTests {
    @Test func activationsAndTransposedConvolutions() throws {
        var g = RandomGenerator(seed: 24)
        let model = Sequential([
            Unflatten(axis: 1, sizes: [4, 3, 3]),
            try ConvTranspose2d(4, 6, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, groups: 2, generator: &g), LeakyReLU(negativeSlope: 0.1),
            try Upsample(scaleFactor: 2, mode: .nearest), ELU(alpha: 0.7),
            try ConvTranspose2d(6, 4, kernelSize: IntOrPair(2, 3), stride: IntOrPair(1, 2), dilation: 2, generator: &g), SiLU(),
            try Upsample(size: [9, 10], mode: .bilinear), try PReLU(numParameters: 4, initialValue: 0.3),
            try Upsample(scaleFactor: 1.5, mode: .bilinear), Softplus(beta: 2, threshold: 3), try PReLU(),
            Flatten(), Linear(4 * 13 * 15, 5, generator: &g), Mish(), Softplus(),
        ])
        let inputs = Tensor.randn([64 * 36], generator: &g).scalars
        LibraryLayerTests.expectClose(try LibraryLayerTests.compare(model, input: ONNXInputSpec(type: .float, shape: [.named("batch"), .fixed(36)]),
                                                                    inputs: inputs, sample: [36]), "activations, ConvTranspose2d, Upsample")
    }

    @Test func conv1d() throws {
        var g = RandomGenerator(seed: 25)
        let model = Sequential([
            Unflatten(axis: 1, sizes: [3, 16]),
            try Conv1d(3, 4, kernelSize: 3, stride: 2, padding: 1, generator: &g), Mish(),
            try Conv1d(4, 6, kernelSize: 2, dilation: 2, groups: 2, bias: false, generator: &g), Flatten(),
        ])
        let inputs = Tensor.randn([64 * 48], generator: &g).scalars
        LibraryLayerTests.expectClose(try LibraryLayerTests.compare(model, input: ONNXInputSpec(type: .float, shape: [.named("batch"), .fixed(48)]),
                                                                    inputs: inputs, sample: [48]), "Conv1d")
    }
}
