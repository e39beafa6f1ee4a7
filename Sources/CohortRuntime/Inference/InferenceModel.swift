// A trained model ready to predict on new, raw inputs: the module in evaluation
// mode plus its InferenceMetadata. `predict` normalizes raw rows as training did,
// runs the forward pass without a graph in batches, and turns the output into
// classes with top-k probabilities or regression values in the target's units;
// `continueText` greedily continues prompts for text models.
import CohortCheckpoint
import CohortCore
import CohortData
import CohortNN
import CohortTensor
import Foundation

/// What `InferenceModel.predict` returns for `count` input rows, in input order.
public struct InferenceResult: Sendable, Equatable {
    /// Classification: the predicted class of each row (the largest logit, the first on ties).
    public var classes: [Int] = []
    /// Classification: each row's `k` most likely classes, most likely first, with their softmax probabilities.
    public var topK: [[(class: Int, probability: Float)]] = []
    /// Regression: each row's prediction in the target's units.
    public var values: [Float] = []
    /// Rows predicted.
    public var count: Int { max(classes.count, values.count) }

    public static func == (a: InferenceResult, b: InferenceResult) -> Bool {
        a.classes == b.classes && a.values == b.values
            && a.topK.map { $0.map(\.class) } == b.topK.map { $0.map(\.class) }
            && a.topK.map { $0.map(\.probability) } == b.topK.map { $0.map(\.probability) }
    }
}

/// A model and what running it needs; built from a checkpoint or any module.
public final class InferenceModel: @unchecked Sendable {
    public let module: any Module
    public let metadata: InferenceMetadata
    /// Where the model came from (for messages).
    public let source: String

    /// Any module with its metadata (quantized and ONNX-backed models plug in here). The
    /// module is put in evaluation mode.
    public init(module: any Module, metadata: InferenceMetadata, source: String = "model") {
        self.module = module
        self.metadata = metadata
        self.source = source
        module.eval()
    }

    /// The model in the file or directory at `path`.
    ///
    /// File kinds (the one dispatch point; add new model file kinds here):
    /// - a checkpoint directory (holding a manifest), or a run directory (its newest valid checkpoint).
    /// - a quantized model file (`.cq`, `cohort quantize`; docs/quantized-format.md).
    /// - Throws: `CohortError.badFile` naming `path` for an unknown kind, `CheckpointError` for a
    ///   damaged checkpoint, and the metadata's errors.
    public convenience init(path: String) throws {
        let path = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CohortError.badFile(path: path, "no such file or directory")
        }
        // ---- Dispatch on the kind of model file ----
        if isDirectory.boolValue {
            let c = try Self.checkpoint(at: path)
            let (module, metadata) = try Self.load(c)
            self.init(module: module, metadata: metadata, source: c.path)
            return
        }
        if QuantizedModelFile.isQuantizedModel(path: path) {
            let metadata = try InferenceMetadata(metadata: try QuantizedModelFile.metadata(path: path), source: path)
            self.init(module: try QuantizedModelFile.load(path: path), metadata: metadata, source: path)
            return
        }
        throw CohortError.badFile(path: path, "not a model cohort can run: expected a checkpoint or run directory, or a quantized model file (.cq)")
    }

    /// The checkpoint at `path`, or the newest valid checkpoint of the run directory `path`.
    public static func checkpoint(at path: String) throws -> Checkpoint {
        if FileManager.default.fileExists(atPath: path + "/" + CheckpointLayout.manifestName)
            || CheckpointLayout.step(fromDirectoryName: (path as NSString).lastPathComponent) != nil {
            return try Checkpoint(path: path)
        }
        let store = CheckpointStore(directory: path)
        guard !store.list().isEmpty else {
            throw CheckpointError.notFound("no checkpoint at \(path): no \(CheckpointLayout.manifestName) and no step-NNNNNNNN checkpoints in it")
        }
        var problems: [String] = []
        guard let c = store.latestValid(skipped: { p, e in problems.append("\(p): \(e)") }) else {
            throw CheckpointError.notFound("no valid checkpoint in \(path): " + problems.joined(separator: "; "))
        }
        return c
    }

    /// The zoo model a checkpoint records, with its weights restored, and its metadata.
    static func load(_ c: Checkpoint) throws -> (any Module, InferenceMetadata) {
        let metadata = try InferenceMetadata(checkpoint: c)
        let spec = ModelSpec(name: metadata.modelKind, settings: metadata.settings)
        guard let inputs = metadata.settings["inputs"].flatMap(Int.init) else {
            throw CohortError.badFile(path: c.path, "the model record has no input count")
        }
        var g = RandomGenerator(seed: 0)
        let module = try ModelZoo.build(spec, shape: ModelShape(inputs: inputs, outputs: metadata.outputs, sequence: metadata.task == .text),
                                        generator: &g)
        try TrainingCheckpoint.restore(c, arena: ParameterArena(module), optimizer: nil)
        return (module, metadata)
    }

    /// Predicts `count` samples from raw rows (row-major, `metadata.featureCount` values each, before
    /// normalization: pixel values 0…255 for image models, the CSV's values for tabular ones).
    /// - Parameters:
    ///   - topK: how many classes (with probabilities) to report per row (classification; capped at the class count).
    ///   - batchSize: rows per forward pass.
    /// - Throws: `CohortError.shapeMismatch` when `rawRows.count != count × featureCount`,
    ///   `CohortError.invalidArgument` for a text model (use `continueText`) or a bad `topK`/`batchSize`.
    public func predict(rawRows: [Float], count: Int, topK: Int = 1, batchSize: Int = 256) throws -> InferenceResult {
        try refuseText()
        guard topK >= 1 else { throw CohortError.invalidArgument("top-k must be at least 1, got \(topK)") }
        var result = InferenceResult()
        let k = min(topK, metadata.outputs)
        try forward(rawRows: rawRows, count: count, batchSize: batchSize) { out, n in try collect(out, rows: n, k: k, into: &result) }
        return result
    }

    /// Each of `count` raw rows' output vector, row-major: softmax probabilities over the classes
    /// (classification, `metadata.outputs` per row) or the prediction in the target's units
    /// (regression, 1 per row) — what `cohort serve` answers.
    /// - Throws: as `predict`.
    /// A stack of dense layers (the zoo's MLP) runs on a `DenseInferencePlan` (transposed weights, a reused
    /// workspace), made at the first call; other models run their module. Not for concurrent callers.
    public func outputs(rawRows: [Float], count: Int, batchSize: Int = 256) throws -> [Float] {
        try refuseText()
        var all: [Float] = []
        all.reserveCapacity(count * metadata.outputs)
        let emit = { (out: [Float], n: Int) throws in
            if self.metadata.task == .regression { all += try self.targetUnits(out, rows: n); return }
            let width = try self.classWidth(out, rows: n)
            for r in 0..<n { all += Self.softmax(out[(r * width)..<((r + 1) * width)]).map { Float($0) } }
        }
        if let plan = densePlan, plan.inputWidth == metadata.featureCount {
            guard count >= 0, rawRows.count == count * plan.inputWidth else {
                throw CohortError.shapeMismatch(op: "predict", "\(count) rows of \(plan.inputWidth) features need \(count * plan.inputWidth) values, got \(rawRows.count)")
            }
            var x = rawRows
            try metadata.normalization.apply(&x, features: plan.inputWidth)
            try emit(plan.forward(x, rows: count), count)
            return all
        }
        try forward(rawRows: rawRows, count: count, batchSize: batchSize, emit)
        return all
    }

    private lazy var densePlan: DenseInferencePlan? = DenseInferencePlan.make(module)

    private func refuseText() throws {
        guard metadata.task != .text else {
            throw CohortError.invalidArgument("\(source) is a text model (\(metadata.modelKind)): it continues prompts, it does not predict rows")
        }
    }

    /// A regression batch's outputs in the target's units.
    private func targetUnits(_ out: [Float], rows n: Int) throws -> [Float] {
        let width = out.count / max(n, 1)
        guard width == 1, let t = metadata.targetNormalization else {
            throw CohortError.shapeMismatch(op: "predict", "\(source): a regression model should output 1 value per row, got \(width)")
        }
        return out.map { $0 * t.std + t.mean }
    }

    /// A classification batch's logits per row, checked against the metadata's class count.
    private func classWidth(_ out: [Float], rows n: Int) throws -> Int {
        let width = out.count / max(n, 1)
        guard width == metadata.outputs else {
            throw CohortError.shapeMismatch(op: "predict", "\(source) outputs \(width) values per row, its metadata says \(metadata.outputs) classes")
        }
        return width
    }

    private static func softmax(_ logits: ArraySlice<Float>) -> [Double] {
        let m = Double(logits.max() ?? 0)
        let e = logits.map { exp(Double($0) - m) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    /// Normalizes `rawRows` as training did and runs the module on them `batchSize` rows at a time,
    /// without a graph, handing each batch's output and row count to `body` in order.
    private func forward(rawRows: [Float], count: Int, batchSize: Int, _ body: ([Float], Int) throws -> Void) throws {
        let d = metadata.featureCount
        guard count >= 0, rawRows.count == count * d else {
            throw CohortError.shapeMismatch(op: "predict", "\(count) rows of \(d) features need \(count * d) values, got \(rawRows.count)")
        }
        guard batchSize >= 1 else { throw CohortError.invalidArgument("batch size must be at least 1, got \(batchSize)") }
        var x = rawRows
        try metadata.normalization.apply(&x, features: d)
        try withNoGrad {
            var start = 0
            while start < count {
                let n = min(batchSize, count - start)
                let batch = try Tensor(Array(x[(start * d)..<((start + n) * d)]), shape: [n] + metadata.inputShape)
                try body(try module(batch).contiguous().scalars, n)
                start += n
            }
        }
    }

    private func collect(_ out: [Float], rows n: Int, k: Int, into result: inout InferenceResult) throws {
        if metadata.task == .regression { result.values += try targetUnits(out, rows: n); return }
        let width = try classWidth(out, rows: n)
        for r in 0..<n {
            let logits = out[(r * width)..<((r + 1) * width)]
            let p = Self.softmax(logits)
            // Stable order: larger logit first, then the smaller class id (argmax takes the first of ties).
            let order = (0..<width).sorted { logits[logits.startIndex + $0] != logits[logits.startIndex + $1]
                ? logits[logits.startIndex + $0] > logits[logits.startIndex + $1] : $0 < $1 }
            result.classes.append(order[0])
            result.topK.append(order.prefix(k).map { ($0, Float(p[$0])) })
        }
    }

    /// Greedy continuations of `prompts` (text models): `tokens` new tokens each (characters with a byte vocabulary).
    /// - Throws: `CohortError.invalidArgument` naming the prompt's line (`firstLine` for the first)
    ///   when it is empty or has a character outside the vocabulary, or when the model is not a text model.
    public func continueText(_ prompts: [String], tokens: Int, firstLine: Int = 1) throws -> [String] {
        try prompts.enumerated().map { i, prompt in
            do { return try continueText(prompt, tokens: tokens) } catch CohortError.invalidArgument(let why) where metadata.task == .text && tokens >= 0 {
                throw CohortError.invalidArgument("line \(firstLine + i): \(why)")
            }
        }
    }

    /// The greedy continuation of one `prompt` (text models): `tokens` new characters.
    /// - Throws: `CohortError.invalidArgument` when the prompt is empty or has a character outside the
    ///   vocabulary, `tokens` is negative, or the model is not a text model.
    public func continueText(_ prompt: String, tokens: Int) throws -> String {
        guard metadata.task == .text, let tokenizer = metadata.tokenizer else {
            throw CohortError.invalidArgument("\(source) is a \(metadata.task.rawValue) model (\(metadata.modelKind)): give rows, not text prompts")
        }
        guard tokens >= 0 else { throw CohortError.invalidArgument("tokens must be ≥ 0, got \(tokens)") }
        let ids: [Int]
        do { ids = try tokenizer.encode(prompt).map(Int.init) } catch { throw CohortError.invalidArgument("\(error)") }
        guard !ids.isEmpty else { throw CohortError.invalidArgument("empty prompt") }
        return try tokenizer.decode(try greedy(ids, tokens: tokens).map(Int32.init))
    }

    /// `tokens` greedily chosen ids after `prompt`.
    func greedy(_ prompt: [Int], tokens: Int) throws -> [Int] {
        var none = RandomGenerator(seed: 0)   // temperature 0 draws nothing
        if let gpt = module as? GPT {
            return Array(try gpt.generate(prompt: prompt, maxNewTokens: tokens, temperature: 0, generator: &none).dropFirst(prompt.count))
        }
        if let lstm = module as? CharLSTM {
            return try lstm.sample(prompt: prompt, count: tokens, temperature: 0, generator: &none)
        }
        // Any other sequence module: the last `context` tokens in, the last position's argmax out.
        let context = metadata.inputShape.first ?? prompt.count
        var sequence = prompt
        try withNoGrad {
            for _ in 0..<tokens {
                let window = Array(sequence.suffix(context))
                let logits = try module(try Tensor(window.map(Float.init), shape: [1, window.count])).contiguous().scalars
                let v = metadata.outputs
                let last = logits[(logits.count - v)...]
                var best = last.startIndex
                for i in last.indices where last[i] > last[best] { best = i }
                sequence.append(best - last.startIndex)
            }
        }
        return Array(sequence.dropFirst(prompt.count))
    }
}
