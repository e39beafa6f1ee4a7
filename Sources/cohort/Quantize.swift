// `cohort quantize`: a checkpoint's model as a `.cq` file — int8 Linear/Conv2d weights
// per output channel (activations dynamic, or static scales for convolutions from
// calibration batches of the training data), or bf16/fp16 weights — and the size
// ratio against fp32. docs/deployment.md, docs/quantized-format.md.
import ArgumentParser
import CohortCheckpoint
import CohortCore
import CohortQuantize
import CohortRuntime
import CohortTensor
import Foundation

struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quantize a checkpoint's model to int8 (or bf16/fp16 weights) into a .cq file.",
        discussion: "Example: cohort quantize runs/mnist --out mnist.cq --mode static --calibration-data ../shared/data/mnist")

    @Argument(help: "A checkpoint directory, or a run directory (its newest valid checkpoint).") var checkpoint: String
    @Option(help: "The .cq file to write.") var out: String
    @Option(help: "Activations: dynamic (each sample's own scale) or static (convolution scales from calibration).") var mode = "dynamic"
    @Option(name: .customLong("calibration-data"), help: "Static mode: the training data (MNIST-format directory or CSV); its training part is used.") var calibrationData: String?
    @Option(name: .customLong("calibration-batches"), help: "Static mode: batches of 64 training samples to calibrate on.") var calibrationBatches = 8
    @Option(help: "Weights: int8, bf16 or fp16.") var dtype = "int8"

    func run() throws { try exitingOnErrors { try quantize() } }

    func quantize() throws {
        guard let mode = QuantizationMode(rawValue: mode) else { throw CohortError.badFlag(flag: "--mode", "'\(self.mode)' is not dynamic or static") }
        guard let dtype = QuantizedDType(rawValue: dtype) else { throw CohortError.badFlag(flag: "--dtype", "'\(self.dtype)' is not int8, bf16 or fp16") }
        guard mode == .dynamic || dtype == .int8 else { throw CohortError.badFlag(flag: "--mode", "static applies to --dtype int8 only (\(dtype) weights are computed in fp32)") }
        guard calibrationBatches >= 1 else { throw CohortError.badFlag(flag: "--calibration-batches", "\(calibrationBatches) must be at least 1") }
        if mode == .dynamic && calibrationData != nil { throw CohortError.badFlag(flag: "--calibration-data", "only static mode calibrates; add --mode static") }
        let c = try Ckpt.open(checkpoint)
        var calibration: [Tensor] = []
        if mode == .static {
            guard let data = calibrationData else { throw CohortError.badFlag(flag: "--calibration-data", "--mode static needs the training data to calibrate on") }
            calibration = try Self.batches(data: data, checkpoint: c, count: calibrationBatches)
        }
        let s = try QuantizedModelFile.quantize(c, to: out, mode: mode, dtype: dtype, calibration: calibration)
        print("\(s.path): \(s.fileBytes) bytes, \(String(format: "%.3f", s.ratio))× the fp32 weights (\(s.fp32Bytes) bytes); "
              + (dtype == .int8 ? "\(s.quantizedLayers.count) layers in int8 (\(mode.rawValue) activations, kernel \(try Int8Kernel.selected()))"
                                : "weights stored as \(dtype.rawValue), computed in fp32"))
        if dtype == .int8 && s.quantizedLayers.isEmpty { Ckpt.note("no Linear or Conv2d layer reachable in \(c.path)'s model: everything stays fp32") }
    }

    /// The first `count` batches of 64 of the training part of `data`, built as `cohort train` built it (normalized, standardized).
    static func batches(data: String, checkpoint c: Checkpoint, count: Int) throws -> [Tensor] {
        let config = Dictionary(c.manifest.trainingConfig.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let train = try ClassificationData.split(data: data, labelColumn: nil, seed: config["seed"].flatMap(UInt64.init) ?? 0,
                                                 validationFraction: config["val_split"].flatMap(Double.init) ?? 0).train
        let inputs = c.manifest.model.settings.first { $0.key == "inputs" }.flatMap { Int($0.value) }
        guard inputs == nil || inputs == train.featureSize else {
            throw CohortError.badFlag(flag: "--calibration-data", "\(data) has \(train.featureSize) features; the model in \(c.path) takes \(inputs!)")
        }
        return try stride(from: 0, to: min(count * 64, train.count), by: 64).map {
            try train.makeBatch(indices: Array($0..<min($0 + 64, train.count))).inputs
        }
    }
}
