// What `cohort train` learns, behind one protocol so the training loop (data
// order, DDP, checkpoints, supervision) is the same for every kind of data:
// classification (MNIST-format images, the built-in synthetic set), next-token
// prediction over a text corpus, and the built-in addition corpus.
import CohortCollectives
import CohortCore
import CohortData
import CohortDistributed
import CohortMetrics
import CohortNN
import CohortOptim
import CohortRunLog
import CohortTensor
import CohortTrainer
import Foundation

/// Indexed training samples, the loss on a batch, and the held-out metrics.
public protocol TrainTask {
    /// Name of the training data (checkpoints record it with the cursor).
    var name: String { get }
    /// Number of training samples: the data order permutes `0..<count`.
    var count: Int { get }
    /// A short description for the start-up log line.
    var summary: String { get }
    /// Model settings the task implies (input width, classes or vocabulary size, context).
    var modelShape: ModelShape { get }
    /// The tokenizer of text tasks (saved with checkpoints for `cohort generate`).
    var tokenizer: TextTokenizer? { get }
    /// What running the model elsewhere needs to know about its inputs and outputs (checkpoints
    /// keep it as `inference.<key>` metadata; `cohort ckpt export` writes it): `input_shape`
    /// (one sample, JSON), `input_dtype`, and where they apply `normalization`, `class_names`,
    /// `target_normalization` (JSON).
    var inference: [(key: String, value: String)] { get }
    /// Inputs and targets of training samples `indices` at 1-based step `step` (augmentation draws depend on it).
    func batch(_ indices: [Int], step: Int) throws -> (inputs: Tensor, targets: Targets)
    /// The training loss of the model's `output` against a batch's `targets` (default: cross-entropy or MSE, below).
    func loss(_ output: Tensor, _ targets: Targets, labelSmoothing: Float) throws -> Tensor
    /// Whether a validation part was carved out of the training data (`--val-split`).
    var hasValidation: Bool { get }
    /// Metrics of the validation part (`val_*`) or the test split (`test_*`) in evaluation mode,
    /// each rank scoring a strided share; collective.
    func evaluate(_ model: any Module, _ comm: any Communicator, _ guarding: CollectiveGuard, on split: HeldOut) throws -> [Metric]
}

/// The held-out part an evaluation scores: the validation part carved from the training data
/// (selection: periodic validation, early stopping, best checkpoints, tune) or the test split
/// (reported once at the end).
public enum HeldOut {
    case validation, test
    /// Metric-name prefix: `val_` or `test_`.
    public var prefix: String { self == .validation ? "val_" : "test_" }
    /// The word in log lines.
    public var word: String { self == .validation ? "val" : "test" }
}

/// A task and its network as a `TrainingModule`: `cohort train` runs the same Trainer as a user's own model.
public final class TaskModule: TrainingModule {
    public let task: any TrainTask
    public let network: any Module
    public let settings: TaskOptions
    /// The deadline the evaluations' reductions wait under (`RankSupervisor.collectiveGuard`).
    public let guarding: CollectiveGuard
    /// Fault injection: whether this rank's loss is made NaN at a step.
    public let poisoned: (Int) -> Bool

    /// - Throws: `CohortError.invalidParameter(name: "paramGroup")` when a parameter group's glob matches no parameter.
    public init(task: any TrainTask, network: any Module, settings: TaskOptions, guarding: CollectiveGuard, poisoned: @escaping (Int) -> Bool = { _ in false }) throws {
        try settings.parameterGroups.check(against: network.namedParameters().map(\.name))
        self.task = task; self.network = network; self.settings = settings; self.guarding = guarding; self.poisoned = poisoned
    }

    public var trainingSamples: Int { task.count }
    public var dataName: String { task.name }
    public func trainingBatch(_ indices: [Int], step: Int) throws -> (inputs: Tensor, targets: Targets, step: Int) {
        let b = try task.batch(indices, step: step)
        return (b.inputs, b.targets, step)
    }
    public func trainingStep(_ batch: (inputs: Tensor, targets: Targets, step: Int)) throws -> Tensor {
        let output = try network(batch.inputs)
        let loss: Tensor
        if network is GPT, case .classes(let ids) = batch.targets {
            // A GPT's logits (its LM head's output) are read by the loss alone: the loss reuses their
            // buffer, bitwise the task's cross-entropy (`Tensor.crossEntropy(consuming:)`).
            let v = output.shape[output.rank - 1]
            loss = try Tensor.crossEntropy(consuming: output.reshape([output.count / v, v]), targets: ids, labelSmoothing: settings.labelSmoothing)
        } else {
            loss = try task.loss(output, batch.targets, labelSmoothing: settings.labelSmoothing)
        }
        return poisoned(batch.step) ? try loss * Float.nan : loss
    }
    public func validate(_ context: ValidationContext) throws -> [Metric] {
        task.hasValidation ? try task.evaluate(network, context.communicator, guarding, on: .validation) : []
    }
    public func test(_ context: ValidationContext) throws -> [Metric] { try task.evaluate(network, context.communicator, guarding, on: .test) }
    public func configureOptimizers(_ parameters: ParameterArena, totalSteps: Int) -> (optimizer: any Optimizer, schedule: any LRSchedule) {
        (settings.makeOptimizer(parameters, network: network), settings.makeSchedule(totalSteps: totalSteps))
    }
}

/// What a batch is trained against.
public enum Targets {
    /// Class ids, flattened over sequence positions (`-100`: ignored).
    case classes([Int])
    /// Real values `[B, outputs]` (regression).
    case values(Tensor)
}

/// What a model built for a task must accept and produce.
public struct ModelShape {
    /// Classification: features per sample. Sequence tasks: tokens per sample.
    public var inputs: Int
    /// Classes, or vocabulary size.
    public var outputs: Int
    /// True for token sequences `[B, T]` → logits `[B, T, V]`.
    public var sequence: Bool

    public init(inputs: Int, outputs: Int, sequence: Bool) { (self.inputs, self.outputs, self.sequence) = (inputs, outputs, sequence) }
}

extension TrainTask {
    public var tokenizer: TextTokenizer? { nil }
    /// Sequence tasks: token ids (int64 for PyTorch's embeddings) of the context's length.
    public var inference: [(key: String, value: String)] {
        let s = modelShape
        return [("input_shape", "[\(s.inputs)]"), ("input_dtype", s.sequence ? "int64" : "float32")]
    }
    /// Cross-entropy of the model's logits (`[B, C]` or `[B, T, V]`) against class targets,
    /// mean squared error against real-valued ones. `labelSmoothing` ε (training only) mixes each
    /// class target with the uniform distribution as PyTorch's `label_smoothing`: (1 − ε)·NLL + ε·mean(−log p).
    public func loss(_ output: Tensor, _ targets: Targets, labelSmoothing: Float = 0) throws -> Tensor {
        switch targets {
        case .classes(let ids):
            let classes = output.shape[output.rank - 1]
            let flat = output.rank == 2 ? output : try output.reshape([output.count / classes, classes])
            return try Loss.crossEntropy(flat, ids, labelSmoothing: labelSmoothing)
        case .values(let y):
            return try Loss.mse(output, y)
        }
    }
}

/// Images or feature vectors with class labels; metrics: accuracy, macro F1, log-loss.
public struct ClassificationTask: TrainTask {
    public let train: ClassificationDataset
    /// The stratified validation part (`--val-split`), if any.
    public var validation: ClassificationDataset?
    public let test: ClassificationDataset
    /// Training-batch augmentation (`--augment`), drawn per (seed, step, sample id).
    public var augmentation: Augmentation?
    public var seed: UInt64 = 0
    /// Where rank 0 writes `confusion.json` after each evaluation (`--log-dir`).
    public var runDirectory: String?

    public init(train: ClassificationDataset, validation: ClassificationDataset?, test: ClassificationDataset) {
        (self.train, self.validation, self.test) = (train, validation, test)
    }

    public var name: String { train.name }
    public var count: Int { train.count }
    public var hasValidation: Bool { validation != nil }
    public var summary: String { "\(train.name) \(train.count) train / " + (validation.map { "\($0.count) validation / " } ?? "") + "\(test.count) test samples" }
    public var modelShape: ModelShape { ModelShape(inputs: train.featureSize, outputs: train.numClasses, sequence: false) }
    public var inference: [(key: String, value: String)] {
        [("input_shape", "[" + train.featureShape.map(String.init).joined(separator: ",") + "]"), ("input_dtype", "float32")]
            + train.preparation.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    public func batch(_ indices: [Int], step: Int) throws -> (inputs: Tensor, targets: Targets) {
        let b = try train.makeBatch(indices: indices)
        guard let augmentation else { return (b.inputs, .classes(b.labels)) }
        return (try augmentation.apply(b.inputs, sampleIDs: indices, step: step, seed: seed), .classes(b.labels))
    }

    /// Accuracy, macro-averaged F1 and log-loss over the whole held-out part, without recording a
    /// graph. Each rank scores a strided share into confusion counts and a log-loss sum, which
    /// are summed across ranks (never averages of per-rank averages).
    public func evaluate(_ model: any Module, _ comm: any Communicator, _ guarding: CollectiveGuard, on split: HeldOut) throws -> [Metric] {
        let test = split == .validation ? validation! : self.test
        var counts = try ClassificationCounts(classes: test.numClasses)
        let mine = Array(stride(from: comm.rank, to: test.count, by: comm.size))
        try withNoGrad {
            var start = 0
            while start < mine.count {
                let idx = Array(mine[start..<min(start + 1000, mine.count)])
                let b = try test.makeBatch(indices: idx)
                try counts.add(scores: try model(b.inputs).contiguous().scalars, labels: b.labels, kind: .logits)
                start += 1000
            }
        }
        // The counts travel as integers; the log-loss sum as fixed-point nano-nats, so the sum is exact and order-free.
        let flat = counts.flattened
        let encoded = flat.dropLast().map { Int64($0) } + [Int64((flat.last! * 1e9).rounded())]
        let total = try guarding("allreduce of the evaluation counts") { try comm.allreduce(encoded, op: .sum) }
        let merged = try ClassificationCounts(flattened: total.dropLast().map(Double.init) + [Double(total.last!) / 1e9], classes: test.numClasses)
        if let dir = runDirectory, comm.rank == 0 {
            try ConfusionMatrixFile(labels: (0..<test.numClasses).map(String.init), matrix: merged.confusionMatrix.map { $0.map(Int.init) })
                .write(runDirectory: dir)
        }
        let accuracy = try merged.accuracy(), f1 = try merged.averaged(.macro).f1, logLoss = try merged.logLoss()
        let p = split.prefix, w = split == .validation ? "val " : ""
        return [Metric(name: p + "accuracy", value: accuracy, text: String(format: "%@ accuracy %.2f%%", split.word, accuracy * 100)),
                Metric(name: p + "macro_f1", value: f1, text: String(format: "%@macro F1 %.4f", w, f1)),
                Metric(name: p + "log_loss", value: logLoss, text: String(format: "%@log-loss %.4f", w, logLoss))]
    }
}

/// Next-token prediction over a text corpus: the first 90 % train (its last `--val-split` part,
/// chronologically, for validation), the last 10 % test; metric: loss.
public struct LanguageModelTask: TrainTask {
    public let vocabulary: TextTokenizer
    public var tokenizer: TextTokenizer? { vocabulary }
    /// How the corpus was tokenized (`--tokenizer`).
    public let tokenizerChoice: TokenizerChoice
    /// Seconds spent building the tokenizer and encoding the corpus (shown for BPE).
    public let tokenizerSeconds: (build: Double, encode: Double)
    public let train: TokenWindows
    /// Windows over the tokens just before the test part (`--val-split`), if any.
    public let validation: TokenWindows?
    public let test: TokenWindows
    /// Held-out windows scored per part (the first ones, fixed, so runs compare).
    public let scoredWindows: Int

    /// - Parameter tokenizer: the corpus's byte vocabulary, or BPE trained on the first 90 % of its
    ///   bytes (the test part's text stays unseen).
    public init(corpusPath: String, context: Int, validationFraction: Double = 0, scoredWindows: Int = 64,
                tokenizer: TokenizerChoice = .bytes) throws {
        let bytes = try TextCorpus.load(path: corpusPath)
        tokenizerChoice = tokenizer
        let started = Date()
        if case .bytes = tokenizer {
            vocabulary = try tokenizer.build(corpus: bytes)
        } else {
            vocabulary = try tokenizer.build(corpus: Array(bytes[..<(bytes.count * 9 / 10)]))
        }
        let built = Date()
        let ids = try vocabulary.encode(bytes)
        tokenizerSeconds = (built.timeIntervalSince(started), Date().timeIntervalSince(built))
        let cut = ids.count * 9 / 10
        // Chronological: training windows end before the validation tokens begin (no shared token).
        let trainEnd = try validationFraction > 0 ? ValidationSplit.chronologicalCut(count: cut, fraction: validationFraction, what: corpusPath) : cut
        let base = URL(fileURLWithPath: corpusPath).deletingPathExtension().lastPathComponent
        train = try TokenWindows(name: base + "-train", tokens: Array(ids[..<trainEnd]), context: context, stride: context / 2, vocabularySize: vocabulary.count)
        validation = try trainEnd < cut ? TokenWindows(name: base + "-val", tokens: Array(ids[trainEnd..<cut]), context: context, vocabularySize: vocabulary.count) : nil
        test = try TokenWindows(name: base + "-test", tokens: Array(ids[cut...]), context: context, vocabularySize: vocabulary.count)
        self.scoredWindows = scoredWindows
    }

    public var name: String { train.name }
    public var count: Int { train.count }
    public var hasValidation: Bool { validation != nil }
    public var summary: String {
        "\(train.name) \(train.tokens.count) train / " + (validation.map { "\($0.tokens.count) validation / " } ?? "")
            + "\(test.tokens.count) test tokens, tokenizer \(vocabulary.summary)\(timing), context \(train.context)"
    }
    public var modelShape: ModelShape { ModelShape(inputs: train.context, outputs: vocabulary.count, sequence: true) }
    /// How long a BPE took to train and to encode the corpus (empty for bytes).
    private var timing: String {
        tokenizerChoice == .bytes ? "" : String(format: ", built in %.2f s, corpus encoded in %.2f s", tokenizerSeconds.build, tokenizerSeconds.encode)
    }

    public func batch(_ indices: [Int], step: Int) throws -> (inputs: Tensor, targets: Targets) {
        let b = train.makeBatch(indices: indices)
        return (b.inputs, .classes(b.targets))
    }

    /// Mean cross-entropy (nats per token) over the first `scoredWindows` windows of the part.
    public func evaluate(_ model: any Module, _ comm: any Communicator, _ guarding: CollectiveGuard, on split: HeldOut) throws -> [Metric] {
        let part = split == .validation ? validation! : test
        let validationWindows = min(scoredWindows, part.count)
        let mine = Array(stride(from: comm.rank, to: validationWindows, by: comm.size))
        var sum = 0.0
        try withNoGrad {
            var start = 0
            while start < mine.count {
                let idx = Array(mine[start..<min(start + 16, mine.count)])
                let b = part.makeBatch(indices: idx)
                sum += Double(try loss(model(b.inputs), .classes(b.targets)).item()) * Double(idx.count)
                start += 16
            }
        }
        // Sums travel as fixed-point micro-nats so the reduction is exact and order-free.
        let total = try guarding("allreduce of the \(split.word) loss") { try comm.allreduce([Int64((sum * 1e6).rounded())], op: .sum) }[0]
        let value = Double(total) / 1e6 / Double(max(validationWindows, 1))
        return [Metric(name: split.prefix + "loss", value: value, text: String(format: "%@ loss %.4f", split.word, value))]
    }
}

/// The built-in addition corpus (no download): next-token loss on the answers only;
/// metric: held-out exact match of greedily decoded answers.
public struct AdditionTask: TrainTask {
    public var tokenizer: TextTokenizer? { .bytes(AdditionProblems.tokenizer) }
    public let train: AdditionProblems
    /// The last `--val-split` of the generated training problems, if any (at most `testCount` are scored).
    public let validation: AdditionProblems?
    public let test: AdditionProblems

    public init(digits: Int, trainCount: Int, testCount: Int, seed: UInt64, validationFraction: Double = 0) throws {
        let (all, test) = try AdditionProblems.make(digits: digits, train: trainCount, test: testCount, seed: seed)
        self.test = test
        guard validationFraction > 0 else { (train, validation) = (all, nil); return }
        let cut = try ValidationSplit.chronologicalCut(count: all.count, fraction: validationFraction, what: all.name)
        train = all.subset(0..<cut, name: all.name)
        validation = all.subset(cut..<min(all.count, cut + testCount), name: "addition-\(digits)-val")
    }

    public var name: String { train.name }
    public var count: Int { train.count }
    public var hasValidation: Bool { validation != nil }
    public var summary: String {
        "\(train.name) \(train.count) problems / " + (validation.map { "\($0.count) validation / " } ?? "")
            + "\(test.count) test problems (\(train.digits)-digit addition, sums written reversed)"
    }
    public var modelShape: ModelShape { ModelShape(inputs: train.length - 1, outputs: AdditionProblems.tokenizer.count, sequence: true) }

    public func batch(_ indices: [Int], step: Int) throws -> (inputs: Tensor, targets: Targets) {
        let b = train.makeBatch(indices: indices)
        return (b.inputs, .classes(b.targets))
    }

    /// Fraction of held-out problems whose greedily decoded answer is exactly right.
    public func evaluate(_ model: any Module, _ comm: any Communicator, _ guarding: CollectiveGuard, on split: HeldOut) throws -> [Metric] {
        let test = split == .validation ? validation! : self.test
        let mine = Array(stride(from: comm.rank, to: test.count, by: comm.size))
        var correct = 0
        try withNoGrad {
            var start = 0
            while start < mine.count {
                let idx = Array(mine[start..<min(start + 256, mine.count)])
                let answers = try AdditionTask.greedy(model, prompts: idx.map { test.prompt($0).prompt }, length: test.answerLength)
                correct += zip(idx, answers).filter { test.prompt($0.0).answer == $0.1 }.count
                start += 256
            }
        }
        let total = try guarding("allreduce of the exact-match counts") { try comm.allreduce([Int64(correct)], op: .sum) }[0]
        let value = Double(total) / Double(max(test.count, 1))
        return [Metric(name: split.prefix + "exact_match", value: value, text: String(format: "%@ exact match %.2f%%", split.word, value * 100))]
    }

    /// A few held-out problems with the model's greedy answers, in everyday notation
    /// ("123 + 459 = 582 ✓").
    public func samples(_ model: any Module, count: Int) throws -> [String] {
        let idx = Array(0..<min(count, test.count))
        let answers = try withNoGrad { try AdditionTask.greedy(model, prompts: idx.map { test.prompt($0).prompt }, length: test.answerLength) }
        return zip(idx, answers).map { i, answer in
            let (a, b) = test.pairs[i]
            let said = String(answer.reversed()).trimmingCharacters(in: .whitespacesAndNewlines)
            let right = said == String(a + b) || Int(said) == a + b
            return "\(a) + \(b) = \(Int(said).map(String.init) ?? said) \(right ? "✓" : "✗ (\(a + b))")"
        }
    }

    /// Appends `length` greedily chosen tokens to every prompt (all the same length).
    public static func greedy(_ model: any Module, prompts: [String], length: Int) throws -> [String] {
        let tok = AdditionProblems.tokenizer
        var rows = try prompts.map { try tok.encode($0) }
        for _ in 0..<length {
            let t = rows[0].count
            let x = try Tensor(rows.flatMap { $0.map(Float.init) }, shape: [rows.count, t])
            let logits = try model(x)
            let v = logits.shape[logits.rank - 1]
            let last = try logits.slice(axis: 1, t - 1, t).reshape([rows.count, v]).argmax(axis: -1).scalars
            for i in rows.indices { rows[i].append(Int32(last[i])) }
        }
        return try rows.map { try tok.decode(Array($0.suffix(length))) }
    }
}
