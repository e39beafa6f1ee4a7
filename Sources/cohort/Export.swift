// `cohort export CHECKPOINT --format onnx --out model.onnx`: rebuilds the checkpoint's
// built-in model, restores its weights and writes it as an ONNX graph (CohortONNX), with
// the model's sizes, class names and normalization in metadata_props; `--format npz|
// safetensors` writes the tensors as `cohort ckpt export` does. docs/deployment.md.
import ArgumentParser
import CohortCheckpoint
import CohortCore
import CohortNN
import CohortONNX
import CohortRuntime
import CohortTensor
import Foundation

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Export a trained model: an ONNX graph (opset 17) or its tensors (npz, safetensors).",
        discussion: "Example: cohort export runs/mnist --format onnx --out mnist.onnx --normalize-in-graph")

    @Argument(help: "Checkpoint or run directory (its newest valid checkpoint).") var checkpoint: String
    @Option(help: "onnx, npz or safetensors.") var format = "onnx"
    @Option(help: "Output file (default: <checkpoint name>.<format> in the current directory).") var out: String?
    @Flag(name: .customLong("normalize-in-graph"),
          help: "onnx: apply the input normalization training used inside the graph (the input is then raw pixels or features); otherwise it is only recorded in metadata_props.")
    var normalizeInGraph = false
    @Flag(name: .customLong("int8-weights"),
          help: "onnx: store Linear, Conv2d and recurrent weight matrices as int8 with per-output-channel symmetric scales, dequantized in the graph (QDQ, weight-only; activations stay float32).")
    var int8Weights = false

    func validate() throws {
        guard (["onnx"] + ExportFormat.allCases.map(\.rawValue)).contains(format) else {
            throw ValidationError("--format must be onnx, npz or safetensors, got '\(format)'")
        }
        if normalizeInGraph && format != "onnx" { throw ValidationError("--normalize-in-graph applies to --format onnx only") }
        if int8Weights && format != "onnx" { throw ValidationError("--int8-weights applies to --format onnx only") }
    }

    func run() throws {
        let c = try Ckpt.open(checkpoint)
        let dest = out ?? (c.path as NSString).lastPathComponent + "." + format
        if let fmt = ExportFormat(rawValue: format) {
            let s = try CheckpointExport.write(c, format: fmt, to: dest, includeOptimizer: false)
            print("wrote \(s.path): \(s.tensors.count) tensors, \(Ckpt.size(s.fileBytes)) \(fmt.rawValue) from \(c.path)")
            return
        }
        let onnx = try Self.onnxModel(c, normalizeInGraph: normalizeInGraph, int8Weights: int8Weights)
        try onnx.write(to: dest)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: dest)[.size] as? Int) ?? 0
        let input = onnx.inputs[0], output = onnx.outputs[0]
        print("wrote \(dest): \(c.manifest.model.name) as ONNX opset \(onnx.opset), \(onnx.nodes.count) nodes, "
              + "\(onnx.initializerElements) weights, \(Ckpt.size(UInt64(bytes))); input \(input.name) \(input.shape) \(input.type), "
              + "output \(output.name) \(output.shape) from \(c.path)")
    }

    /// The checkpoint's model as an ONNX model.
    static func onnxModel(_ c: Checkpoint, normalizeInGraph: Bool, int8Weights: Bool) throws -> ONNXModel {
        let record = c.manifest.model
        let settings = Dictionary(record.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard ModelZoo.names.contains(record.name) else {
            throw CohortError.badFlag(flag: "CHECKPOINT", "\(c.path) holds a '\(record.name)' model; export rebuilds the built-in models "
                                      + "(\(ModelZoo.predictiveModels.joined(separator: ", "))) — export a network of your own with ONNXExporter.export")
        }
        try ModelZoo.refuseGenerative(record.name, path: c.path, command: "export")
        guard let inputs = settings["inputs"].flatMap(Int.init), let outputs = settings["classes"].flatMap(Int.init) else {
            throw CohortError.badFlag(flag: "CHECKPOINT", "\(c.path) does not record its input and output sizes (saved by an older cohort?)")
        }
        let sequence = ModelZoo.sequenceModels.contains(record.name)
        var g = RandomGenerator(seed: 0)
        let model = try ModelZoo.build(ModelSpec(name: record.name, settings: settings),
                                       shape: ModelShape(inputs: inputs, outputs: outputs, sequence: sequence), generator: &g)
        try TrainingCheckpoint.restore(c, arena: ParameterArena(model), optimizer: nil)
        let metadata = CheckpointExport.metadata(of: c).map { (key: $0.key, value: $0.value) }
        let facts = Dictionary(metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let spec: ONNXInputSpec
        if sequence {
            spec = ONNXInputSpec(type: .int64, shape: [.named("batch"), .named("sequence")])
        } else {
            let sample = facts["inference.input_shape"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [Int] } ?? [inputs]
            guard sample.reduce(1, *) == inputs else {
                throw CohortError.badFlag(flag: "CHECKPOINT", "\(c.path) records input shape \(sample) but \(inputs) inputs")
            }
            spec = ONNXInputSpec(type: .float, shape: [.named("batch")] + sample.map { .fixed($0) })
        }
        var normalization: String?
        if normalizeInGraph {
            guard let record = facts["inference.normalization"] else {
                throw CohortError.badFlag(flag: "--normalize-in-graph", "\(c.path) records no input normalization (inference.normalization)")
            }
            normalization = record
        }
        let extra: [(key: String, value: String)] = [
            ("export.normalization_in_graph", normalization == nil ? "false" : "true"),
            ("export.weights", int8Weights ? "int8 per-output-channel symmetric (DequantizeLinear)" : "float32"),
            ("export.input", sequence ? "token ids int64 [batch, sequence]" : "float32 [batch, \(spec.shape.dropFirst().map(\.description).joined(separator: ", "))]"),
        ]
        var onnx = try ONNXExporter.export(model, input: spec, normalization: normalization, metadata: metadata + extra, int8Weights: int8Weights)
        onnx.producerVersion = cohortVersion
        return onnx
    }
}
