// Every built-in model exported to ONNX and run by ONNX Runtime (reference venv):
// outputs on 64 inputs, at batch 64 and batch 1, equal Cohort's forward within 1e-4;
// the file passes onnx.checker; a layer without a mapping is an error naming its type
// and path; normalization in the graph; a custom layer's own mapping.
import CohortData
import CohortNN
import CohortONNX
import CohortRuntime
import CohortTensor
import Foundation
import Testing

@Suite(.serialized) struct ONNXExportTests {
    static let tolerance = 1e-4

    /// Built-in models at small sizes: spec, shape and the input length of one sample.
    static func build(_ name: String) throws -> (model: any Module, input: ONNXInputSpec, sample: [Int], vocab: Int?) {
        var g = RandomGenerator(seed: 7)
        let sequence = ModelZoo.sequenceModels.contains(name)
        let spec = ModelSpec(name: name, hidden: name == "lstm" ? [32] : [64, 32], layers: 2, heads: 4, dModel: 32, embedding: 16)
        let shape = sequence ? ModelShape(inputs: 16, outputs: 65, sequence: true) : ModelShape(inputs: 784, outputs: 10, sequence: false)
        let model = try ModelZoo.build(spec, shape: shape, generator: &g)
        try randomizeNormStatistics(model, &g)
        if sequence {
            return (model, ONNXInputSpec(type: .int64, shape: [.named("batch"), .named("sequence")]), [12], 65)
        }
        return (model, ONNXInputSpec(type: .float, shape: [.named("batch"), .fixed(784)]), [784], nil)
    }

    /// BatchNorm's fresh running statistics (0 and 1) would hide a wrong evaluation form.
    static func randomizeNormStatistics(_ m: any Module, _ g: inout RandomGenerator) throws {
        for (name, t) in m.namedBuffers() {
            let values = name.hasSuffix("running_var") ? Tensor.rand(t.shape, low: 0.5, high: 2, generator: &g)
                                                       : Tensor.rand(t.shape, low: -0.5, high: 0.5, generator: &g)
            try t.assign(values)
        }
    }

    /// Exports, runs Cohort's forward on 64 inputs and ONNX Runtime on the file.
    /// `steps` overrides a sequence model's input length (12 by default; the context is 16).
    static func roundTrip(_ name: String, steps: Int? = nil) throws -> ONNXReference.Report {
        var (model, spec, sample, vocab) = try build(name)
        if let steps { sample = [steps] }
        var g = RandomGenerator(seed: 11)
        let count = 64 * sample.reduce(1, *)
        let inputs: [Float] = vocab.map { v in (0..<count).map { _ in Float(Int(g.nextDouble() * Double(v)) % v) } }
            ?? Tensor.rand([count], generator: &g).scalars
        let onnx = try ONNXExporter.export(model, input: spec, metadata: [("model", name)])
        let dir = try ONNXReference.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("\(name).onnx").path
        try onnx.write(to: path)
        model.eval()
        let y = try withNoGrad { try model(Tensor(inputs, shape: [64] + sample)) }
        return try ONNXReference.check(model: path, inputs: inputs, inputShape: [64] + sample, expected: y.scalars, expectedShape: y.shape)
    }

    @Test(arguments: ModelZoo.predictiveModels) func builtInModelMatchesONNXRuntime(_ name: String) throws {
        let r = try Self.roundTrip(name)
        print("onnx \(name): max abs batch 64 \(r.batchN.map { "\($0)" } ?? "-"), batch 1 \(r.batch1.map { "\($0)" } ?? "-"), ops \(r.json["ops"] ?? "-")")
        #expect(r.json["checked"] as? Bool == true, "\(name): \(r.json)")
        #expect((r.batchN ?? .infinity) <= Self.tolerance, "\(name) batch 64: \(r.json)")
        #expect((r.batch1 ?? .infinity) <= Self.tolerance, "\(name) batch 1: \(r.json)")
        #expect(r.inputShape.first == "batch", "\(name): the batch dimension must be dynamic: \(r.json)")
        if ModelZoo.sequenceModels.contains(name) {
            #expect(r.inputShape.count == 2 && r.inputShape[1] == "sequence", "\(name): dynamic sequence length: \(r.json)")
        }
        #expect(r.metadata["model"] == name)
    }

    /// The sequence dimension is dynamic: the exported graph runs at lengths 1, 3 and 16 (the full context).
    @Test(arguments: ["lstm", "gpt"]) func sequenceModelsAtOtherLengths(_ name: String) throws {
        for steps in [1, 3, 16] {
            let r = try Self.roundTrip(name, steps: steps)
            #expect((r.batchN ?? .infinity) <= Self.tolerance && (r.batch1 ?? .infinity) <= Self.tolerance, "\(name) T=\(steps): \(r.json)")
        }
    }

    /// A layer with no mapping, nested two levels down.
    final class Mystery: Module {
        var isTraining = true
        func forward(_ x: Tensor) throws -> Tensor { x }
    }

    @Test func unsupportedLayerIsNamedWithItsPath() throws {
        var g = RandomGenerator(seed: 1)
        let model = Sequential([Linear(4, 3, generator: &g), Sequential([ReLU(), Mystery()])])
        #expect {
            _ = try ONNXExporter.export(model, input: ONNXInputSpec(type: .float, shape: [.named("batch"), .fixed(4)]))
        } throws: { error in
            guard let e = error as? ONNXExportError, case let .unsupportedLayer(type, path) = e else { return false }
            return type == "Mystery" && path == "1.1" && e.description.contains("Mystery") && e.description.contains("'1.1'")
        }
    }

    /// A user layer that brings its own mapping: `y = 2x`.
    final class Doubler: Module, ONNXExportable {
        var isTraining = true
        func forward(_ x: Tensor) throws -> Tensor { try x * 2 }
        func exportONNX(_ exporter: inout ONNXExporter.Context, input: ONNXValue, path: String) throws -> ONNXValue {
            exporter.graph.binary("Mul", input, exporter.graph.scalar(2, name: path + "two"), name: path + "double")
        }
    }

    @Test func normalizationInGraphAndCustomLayer() throws {
        var g = RandomGenerator(seed: 3)
        let model = Sequential([Flatten(), Linear(784, 16, generator: &g), Doubler(), GELU(), Linear(16, 5, generator: &g), Softmax()])
        let record = #"{"kind":"pixels","divide":255,"mean":0.1307,"std":0.3081}"#
        let raw = (0..<(64 * 784)).map { _ in Float(Int(g.nextDouble() * 256) % 256) }
        let normalized = raw.map { ($0 / 255 - 0.1307) / 0.3081 }
        let onnx = try ONNXExporter.export(model, input: ONNXInputSpec(type: .float, shape: [.named("batch"), .fixed(784)]), normalization: record)
        #expect(onnx.nodes.first?.opType == "Div")
        let dir = try ONNXReference.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("norm.onnx").path
        try onnx.write(to: path)
        let y = try withNoGrad { try model(Tensor(normalized, shape: [64, 784])) }
        let r = try ONNXReference.check(model: path, inputs: raw, inputShape: [64, 784], expected: y.scalars, expectedShape: y.shape)
        #expect((r.batchN ?? .infinity) <= Self.tolerance && (r.batch1 ?? .infinity) <= Self.tolerance, "\(r.json)")
    }
}
