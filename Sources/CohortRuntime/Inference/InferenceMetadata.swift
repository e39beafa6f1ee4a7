// What running a trained model on new inputs needs to know, read from the flat
// key-value metadata `cohort ckpt export` writes (`model`, `model.<setting>`,
// `inference.<fact>`, `config.<flag>`; CheckpointExport.metadata(of:)): the model's
// kind and sizes, one sample's input shape and dtype, the input normalization,
// class names or vocabulary, and the task. Other model files (ONNX, quantized)
// carry the same keys, so one parser serves them all.
import CohortCheckpoint
import CohortCore
import CohortData
import Foundation

/// How raw input values become the values the model was trained on.
public enum InputNormalization: Sendable, Equatable {
    /// Inputs are used as they are.
    case identity
    /// Image pixels: `(x / divide − mean) / std` (MNIST-format data).
    case pixels(divide: Float, mean: Float, std: Float)
    /// Per-feature z-scores `(x − mean[j]) / std[j]` (CSV data, fitted on the training rows).
    case standardize(mean: [Float], std: [Float])

    /// Normalizes `rows` (row-major, `features` values each) in place.
    /// - Throws: `CohortError.shapeMismatch` when a standardizer's feature count differs from `features`.
    public func apply(_ rows: inout [Float], features: Int) throws {
        switch self {
        case .identity: return
        case let .pixels(divide, mean, std):
            // The same Float operations as MNIST.load's table, so a raw byte maps to the same value.
            for i in rows.indices { rows[i] = (rows[i] / divide - mean) / std }
        case let .standardize(mean, std):
            guard mean.count == features, std.count == features else {
                throw CohortError.shapeMismatch(op: "normalization", "the standardizer has \(mean.count) features, the input rows \(features)")
            }
            for i in rows.indices { let j = i % features; rows[i] = (rows[i] - mean[j]) / std[j] }
        }
    }
}

/// The facts about a model that inference needs, as `cohort ckpt export` records them.
public struct InferenceMetadata: Sendable {
    /// What the model's output means.
    public enum Task: String, Sendable {
        /// Logits over `classes` classes.
        case classification
        /// One standardized real value per sample (`targetNormalization` maps it back).
        case regression
        /// Next-token logits over a token vocabulary (`[B, T]` ids → `[B, T, V]`).
        case text
    }

    /// The built-in model's name (`mlp`, `cnn`, `resnet`, `lstm`, `gpt`), or another module's.
    public var modelKind: String
    /// The model's settings without the `model.` prefix (`hidden`, `inputs`, `classes`, …).
    public var settings: [String: String]
    public var task: Task
    /// One sample's shape (`[4]`, `[1,28,28]`; the context length for text models).
    public var inputShape: [Int]
    /// `float32`, or `int64` for token ids.
    public var inputDType: String
    public var normalization: InputNormalization
    /// Class names by class id (classification; `0`, `1`, … when the data had none).
    public var classNames: [String]
    /// Names of the feature columns of CSV training data, when recorded.
    public var featureNames: [String]?
    /// Regression: the model predicts `(y − mean) / std`.
    public var targetNormalization: (mean: Float, std: Float)?
    /// Regression: the target column's name, when recorded.
    public var targetName: String?
    /// Text models: the tokenizer (byte vocabulary or BPE).
    public var tokenizer: TextTokenizer?
    /// Output width: classes, vocabulary size, or 1 for regression.
    public var outputs: Int

    /// Features per sample (the product of `inputShape`).
    public var featureCount: Int { inputShape.reduce(1, *) }

    /// Reads the flat metadata of an export (keys as in `CheckpointExport.metadata(of:)`).
    /// - Parameter source: the file the metadata came from; errors name it.
    /// - Throws: `CohortError.badFile(path: source, …)` naming a missing or malformed key.
    public init(metadata m: [String: String], source: String) throws {
        func bad(_ what: String) -> CohortError { .badFile(path: source, what) }
        guard let kind = m["model"], !kind.isEmpty else { throw bad("no `model` record: not a model cohort wrote") }
        modelKind = kind
        if kind.hasPrefix("forecast-") || m["config.task"] == "forecast" {
            throw bad("a forecasting model (\(kind), cohort train --task forecast): predict, serve and quantize do not run forecast checkpoints yet; "
                      + "training prints its test scores beside the baselines (docs/timeseries.md)")
        }
        if kind == "detector" || m["config.task"] == "detect" {
            throw bad("an object detector (cohort train --task detect): `cohort predict --checkpoint … --input IMAGE.png --draw DIR` runs it; "
                      + "serve, export and quantize do not take detectors yet")
        }
        var settings: [String: String] = [:]
        for (k, v) in m where k.hasPrefix("model.") { settings[String(k.dropFirst(6))] = v }
        self.settings = settings
        guard let outputs = settings["classes"].flatMap(Int.init), let inputs = settings["inputs"].flatMap(Int.init) else {
            throw bad("the model record has no input and class counts (model.inputs, model.classes); saved by an older cohort?")
        }
        if let hex = settings["tokenizer"] {
            do { tokenizer = try TextTokenizer(serialized: hex) } catch { throw bad("model.tokenizer: \(error)") }
            task = .text
        } else {
            task = m["config.task"] == "regression" ? .regression : .classification
        }
        self.outputs = outputs
        if let shape = m["inference.input_shape"] {
            guard let dims = Self.numbers(shape)?.map({ Int($0) }), !dims.isEmpty, dims.allSatisfy({ $0 > 0 }) else {
                throw bad("inference.input_shape \(shape.debugDescription) is not a JSON list of positive sizes")
            }
            inputShape = dims
        } else {
            inputShape = [inputs]
        }
        guard task == .text || inputShape.reduce(1, *) == inputs else {
            throw bad("inference.input_shape \(inputShape) holds \(inputShape.reduce(1, *)) values, the model takes \(inputs)")
        }
        inputDType = m["inference.input_dtype"] ?? (task == .text ? "int64" : "float32")
        normalization = try m["inference.normalization"].map { try Self.normalization($0, source: source) } ?? .identity
        classNames = m["inference.class_names"].flatMap(Self.strings) ?? (0..<outputs).map(String.init)
        featureNames = m["inference.feature_names"].flatMap(Self.strings)
        targetName = m["inference.target_name"]
        if let t = m["inference.target_normalization"] {
            guard let o = Self.object(t), let mean = (o["mean"] as? NSNumber)?.floatValue, let std = (o["std"] as? NSNumber)?.floatValue else {
                throw bad("inference.target_normalization \(t.debugDescription) is not {\"mean\": …, \"std\": …}")
            }
            targetNormalization = (mean, std)
        }
        if task == .regression && targetNormalization == nil { throw bad("a regression model without inference.target_normalization") }
        if case let .standardize(mean, _) = normalization, mean.count != featureCount {
            throw bad("inference.normalization standardizes \(mean.count) features, the input shape \(inputShape) has \(featureCount)")
        }
    }

    /// The metadata of checkpoint `c` (what `cohort ckpt export` would write).
    public init(checkpoint c: Checkpoint) throws {
        try ModelZoo.refuseGenerative(c.manifest.model.name, path: c.path, command: "predict, serve or --judge")
        let pairs = CheckpointExport.metadata(of: c).map { ($0.key, $0.value) }
        try self.init(metadata: Dictionary(pairs, uniquingKeysWith: { a, _ in a }), source: c.path)
    }

    // MARK: - JSON helpers

    static func object(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    static func numbers(_ text: String) -> [Double]? {
        ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [NSNumber])?.map(\.doubleValue)
    }

    static func strings(_ text: String) -> [String]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String]
    }

    static func normalization(_ text: String, source: String) throws -> InputNormalization {
        guard let o = object(text), let kind = o["kind"] as? String else {
            throw CohortError.badFile(path: source, "inference.normalization \(text.debugDescription) is not a JSON object with a kind")
        }
        func float(_ key: String) -> Float? { (o[key] as? NSNumber)?.floatValue }
        func floats(_ key: String) -> [Float]? { (o[key] as? [NSNumber])?.map(\.floatValue) }
        switch kind {
        case "pixels":
            guard let d = float("divide"), let m = float("mean"), let s = float("std"), d != 0, s != 0 else { break }
            return .pixels(divide: d, mean: m, std: s)
        case "standardize":
            guard let m = floats("mean"), let s = floats("std"), m.count == s.count, !s.contains(0) else { break }
            return .standardize(mean: m, std: s)
        default:
            throw CohortError.badFile(path: source, "inference.normalization: unknown kind '\(kind)' (known: pixels, standardize)")
        }
        throw CohortError.badFile(path: source, "inference.normalization \(text.debugDescription): missing or invalid values for kind '\(kind)'")
    }
}
