// Quantizing a checkpoint into a `.cq` file and loading one back as a runnable module
// (docs/quantized-format.md). The model is rebuilt from the settings the file records
// (`model`, `model.*`, as `ckpt export` writes them) with the model zoo, then filled by
// `QuantizedFile.restore`; so every built-in model loads, its int8 layers in int8.
import CohortCheckpoint
import CohortCore
import CohortData
import CohortNN
import CohortQuantize
import CohortTensor

/// What `QuantizedModelFile.quantize` wrote.
public struct QuantizeSummary: Sendable {
    /// The `.cq` file and its size.
    public var path: String
    public var fileBytes: Int
    /// The model's parameters and buffers as fp32 bytes (what `ckpt export` stores, headers aside).
    public var fp32Bytes: Int
    /// Paths of the layers stored in int8.
    public var quantizedLayers: [String]
    /// `fileBytes / fp32Bytes`.
    public var ratio: Double { Double(fileBytes) / Double(max(fp32Bytes, 1)) }
}

/// `.cq` files: quantizing checkpoints into them and loading them.
public enum QuantizedModelFile {
    /// The built-in model `name` with `settings` (the checkpoint's model settings, or a file's `model.*`).
    /// - Throws: `CohortError.badFile` naming `path` when `inputs` or `classes` is missing; the zoo's errors.
    static func skeleton(name: String, settings: [String: String], path: String) throws -> any Module {
        guard let inputs = settings["inputs"].flatMap(Int.init), let classes = settings["classes"].flatMap(Int.init) else {
            throw CohortError.badFile(path: path, "does not record the model's input and class counts (model.inputs, model.classes)")
        }
        var g = RandomGenerator(seed: 0)
        return try ModelZoo.build(ModelSpec(name: name, settings: settings),
                                  shape: ModelShape(inputs: inputs, outputs: classes, sequence: ModelZoo.sequenceModels.contains(name)), generator: &g)
    }

    /// The trained fp32 model of `checkpoint`, in eval mode.
    public static func model(of checkpoint: Checkpoint) throws -> any Module {
        let record = checkpoint.manifest.model
        try ModelZoo.refuseGenerative(record.name, path: checkpoint.path, command: "quantize")
        let settings = Dictionary(record.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let model = try skeleton(name: record.name, settings: settings, path: checkpoint.path)
        try TrainingCheckpoint.restore(checkpoint, arena: ParameterArena(model), optimizer: nil)
        model.eval()
        return model
    }

    /// Quantizes `checkpoint`'s model and writes it to `path` with the checkpoint's export metadata.
    /// `calibration`: input batches for `.static` mode. With `.bf16`/`.fp16` the weights are stored as halves.
    /// - Throws: the quantizer's errors (static mode without calibration), `CohortError.badFile` naming `path`.
    @discardableResult
    public static func quantize(_ checkpoint: Checkpoint, to path: String, mode: QuantizationMode = .dynamic, dtype: QuantizedDType = .int8,
                                calibration: [Tensor] = []) throws -> QuantizeSummary {
        let model = try model(of: checkpoint)
        let fp32 = (model.namedParameters() + model.namedBuffers()).reduce(0) { $0 + 4 * $1.tensor.count }
        let module: any Module
        if dtype == .int8 {
            module = try Quantizer.quantize(model, mode: mode, calibration: calibration)
        } else {
            try Quantizer.roundParameters(model, to: dtype)
            module = model
        }
        let metadata = CheckpointExport.metadata(of: checkpoint).map { (key: $0.key, value: $0.value) }
        let bytes = try QuantizedFile.write(module, dtype: dtype, mode: mode, metadata: metadata, to: path)
        return QuantizeSummary(path: path, fileBytes: bytes, fp32Bytes: fp32, quantizedLayers: QuantizedFile.quantizedLayers(module).map(\.path))
    }

    /// The runnable model in the `.cq` file at `path` (eval mode): int8 layers where the file has them.
    /// - Throws: `CohortError.badFile` naming `path` (not a `.cq` file, a tensor missing or mis-shaped).
    public static func load(path: String) throws -> any Module {
        let file = try SafetensorsFile(path: path)
        guard let name = file.metadata["model"] else { throw CohortError.badFile(path: path, "records no model name (metadata 'model')") }
        var settings: [String: String] = [:]
        for (k, v) in file.metadata where k.hasPrefix("model.") { settings[String(k.dropFirst(6))] = v }
        return try QuantizedFile.restore(try skeleton(name: name, settings: settings, path: path), from: file)
    }

    /// Whether `path` is a `.cq` file (a safetensors file whose metadata `format` is `cohort-quantized`).
    public static func isQuantizedModel(path: String) -> Bool {
        (try? SafetensorsFile(path: path))?.metadata["format"] == QuantizedFile.format
    }

    /// The `__metadata__` of the `.cq` file at `path` (format, quantization and inference keys).
    public static func metadata(path: String) throws -> [String: String] { try SafetensorsFile(path: path).metadata }
}
