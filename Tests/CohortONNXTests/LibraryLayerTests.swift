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
