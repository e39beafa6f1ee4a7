// `cohort eval`: a trained classifier's held-out metrics, from a checkpoint and
// the data it was trained on — accuracy, top-k, log-loss, per-class precision,
// recall and F1 with macro/micro/weighted averages, and the confusion matrix —
// computed from counts (CohortMetrics), optionally as JSON. Regression checkpoints:
// MAE, RMSE and R² (Eval+Regression.swift).
import ArgumentParser
import CohortCheckpoint
import CohortCore
import CohortData
import CohortMetrics
import CohortNN
import CohortRuntime
import CohortTensor
import CohortTrainer
import Foundation

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a classifier or regression checkpoint on its data's held-out part.",
        discussion: "Example: cohort eval --checkpoint runs/iris --data ../shared/data/iris/iris.csv")

    @Option(help: "A checkpoint directory, or a run directory (its newest valid checkpoint).") var checkpoint: String
    @Option(help: "The data the model was trained on: an MNIST-format directory or a CSV file (the held-out part is rebuilt with the run's seed).") var data: String
    @Option(name: .customLong("label-column"), help: "CSV data: the label column (default: the last).") var labelColumn: String?
    @Option(name: .customLong("top-k"), help: "Also report top-k accuracy for these k (comma-separated).") var topK = "5"
    @Flag(help: "Print one JSON object instead of the text report.") var json = false

    func run() throws { try exitingOnErrors { try evaluate() } }

    func evaluate() throws {
        let c = try Ckpt.open(checkpoint)
        let record = c.manifest.model
        let settings = Dictionary(record.settings.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        try ModelZoo.refuseGenerative(record.name, path: c.path, command: "eval")
        guard !ModelZoo.sequenceModels.contains(record.name) else {
            throw CohortError.badFlag(flag: "--checkpoint", "\(c.path) holds a '\(record.name)' sequence model; eval scores classifiers (use cohort generate)")
        }
        let config = Dictionary(c.manifest.trainingConfig.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        if config["task"] == "regression" { return try evaluateRegression(c, config: config, settings: settings) }
        guard config["task"] == nil else {
            throw CohortError.badFlag(flag: "--checkpoint", "\(c.path) is a \(config["task"]!) model; eval scores classifiers and regression models")
        }
        let seed = config["seed"].flatMap(UInt64.init) ?? 0
        let test = try ClassificationData.heldOut(data: data, labelColumn: labelColumn, seed: seed,
                                                  validationFraction: config["val_split"].flatMap(Double.init) ?? 0)
        guard let inputs = settings["inputs"].flatMap(Int.init), let classes = settings["classes"].flatMap(Int.init) else {
            throw CohortError.badFlag(flag: "--checkpoint", "\(c.path) does not record its input and class counts (saved by an older cohort?)")
        }
        guard inputs == test.featureSize, classes == test.numClasses else {
            throw CohortError.badFlag(flag: "--data", "\(data) has \(test.featureSize) features and \(test.numClasses) classes; the model in \(c.path) takes \(inputs) and predicts \(classes)")
        }
        var g = RandomGenerator(seed: 0)
        let model = try ModelZoo.build(ModelSpec(name: record.name, settings: settings),
                                       shape: ModelShape(inputs: inputs, outputs: classes, sequence: false), generator: &g)
        try TrainingCheckpoint.restore(c, arena: ParameterArena(model), optimizer: nil)
        model.eval()
        let ks = try topK.split(separator: ",").map { s -> Int in
            guard let k = Int(s), k >= 1 else { throw CohortError.badFlag(flag: "--top-k", "'\(s)' is not a positive integer") }
            return k
        }.filter { $0 < classes }
        var counts = try ClassificationCounts(classes: classes, topK: ks)
        try withNoGrad {
            var start = 0
            while start < test.count {
                let b = try test.makeBatch(indices: Array(start..<min(start + 1000, test.count)))
                try counts.add(scores: try model(b.inputs).contiguous().scalars, labels: b.labels, kind: .logits)
                start += 1000
            }
        }
        let macro = try counts.averaged(.macro), micro = try counts.averaged(.micro), weighted = try counts.averaged(.weighted)
        if json {
            var out: [String: Any] = ["checkpoint": c.path, "step": c.manifest.step, "samples": test.count, "accuracy": try counts.accuracy(),
                                      "log_loss": try counts.logLoss(), "macro_f1": macro.f1, "micro_f1": micro.f1, "weighted_f1": weighted.f1,
                                      "macro_precision": macro.precision, "macro_recall": macro.recall,
                                      "confusion_matrix": counts.confusionMatrix.map { $0.map { Int($0) } }]
            for k in ks { out["top_\(k)_accuracy"] = try counts.topKAccuracy(k) }
            let data = try JSONSerialization.data(withJSONObject: out, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("\(c.path) (step \(c.manifest.step)) on \(test.name): \(test.count) held-out samples")
        print(String(format: "accuracy %.4f, log-loss %.4f", try counts.accuracy(), try counts.logLoss())
              + ks.map { String(format: ", top-%d %.4f", $0, (try? counts.topKAccuracy($0)) ?? .nan) }.joined())
        print("")
        print(try MetricReport.classificationReport(counts, digits: 4))
        print(try MetricReport.confusionMatrix(counts))
    }
}

/// The held-out part of classification data, rebuilt as `cohort train` builds it.
enum ClassificationData {
    /// MNIST-format directory: its test split (normalized). CSV: the stratified 20 % test part
    /// for `seed`, standardized with the training part's statistics.
    /// `validationFraction`: the run's `--val-split` (it changes which rows fitted the standardizer).
    static func heldOut(data: String, labelColumn: String?, seed: UInt64, validationFraction: Double = 0) throws -> ClassificationDataset {
        try split(data: data, labelColumn: labelColumn, seed: seed, validationFraction: validationFraction).test
    }

    /// Training, validation and held-out (test) parts (the one place `cohort train` and `cohort eval`
    /// build them). With `fold` (CSV only), the held-out part is that fold of `count` stratified folds.
    /// With `validationFraction` > 0, a stratified validation part is carved from the training part
    /// (`ValidationSplit.seed`); CSV features are standardized with what is left for training only.
    static func split(data: String, labelColumn: String?, seed: UInt64, fold: (index: Int, count: Int)? = nil,
                      validationFraction: Double = 0) throws -> (train: ClassificationDataset, validation: ClassificationDataset?, test: ClassificationDataset) {
        func carve(_ train: ClassificationDataset) throws -> (ClassificationDataset, ClassificationDataset?) {
            guard validationFraction > 0 else { return (train, nil) }
            let parts = try train.validationSplit(fraction: validationFraction, runSeed: seed)
            return (parts.train, parts.validation)
        }
        if data.lowercased().hasSuffix(".csv") {
            let table = try CSVDataset.classification(path: data, labelColumn: labelColumn)
            let (all, test) = try fold.map { try table.dataset.foldSplit($0.index, of: $0.count, seed: seed) }
                ?? table.dataset.stratifiedSplit(testFraction: 0.2, seed: seed)
            let (train, validation) = try carve(all)
            let scaler = Standardizer(fitting: train)
            return (try train.standardized(scaler), try validation.map { try $0.standardized(scaler) }, try test.standardized(scaler))
        }
        if fold != nil { throw CohortError.badFlag(flag: "--cv-fold", "cross-validation folds need --data FILE.csv, got \(data)") }
        let (train, validation) = try carve(try MNIST.load(directory: data, split: .train, normalize: true))
        return (train, validation, try MNIST.load(directory: data, split: .test, normalize: true))
    }
}
