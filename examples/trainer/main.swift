// A user-defined model trained through Cohort's Lightning-style Trainer: the
// model says what a batch, a loss, a metric and an optimizer are; the Trainer
// does the rest (data order, data-parallel averaging, checkpoints, callbacks).
// Selection (early stopping, best checkpoint) sees a validation part of the
// training data; the test split is scored once at the end, and for the best checkpoint.
// CohortRuntime starts MPI under a launcher and, under `cohort launch`, supervises the
// ranks (heartbeats, hang detection, restarts from the newest checkpoint, preemption saves)
// with no code here.
// Run: swift run -c release TrainerExample [--deterministic] [--steps N] [--checkpoint-every N] [MNIST-DIR]
//  or: mpirun -n 2 .build/release/TrainerExample   (each rank takes half of every batch)
//  or: cohort launch --np 2 --program .build/release/TrainerExample -- --checkpoint-dir runs/a
// --deterministic: 4 virtual shards, so 1, 2 and 4 ranks train bitwise the same weights.
import Cohort
import CohortRuntime
import Foundation

final class SmallCNN: TrainingModule {
    let train: ClassificationDataset, validation: ClassificationDataset, test: ClassificationDataset
    let network: any Module

    init(dataDirectory: String?) throws {
        let all: ClassificationDataset
        if let dir = dataDirectory { (all, test) = (try MNIST.load(directory: dir, split: .train, normalize: true), try MNIST.load(directory: dir, split: .test, normalize: true)) } else {
            let (a, b) = try SyntheticDataset.make(seed: 7)   // no download: 64-feature vectors as 1×8×8 images
            (all, test) = (try a.reshaped(featureShape: [1, 8, 8]), try b.reshaped(featureShape: [1, 8, 8]))
        }
        (train, validation) = try all.validationSplit(fraction: 0.1, runSeed: 7)   // stratified, 10 % of every class
        var g = RandomGenerator(seed: 7)
        let side = train.featureShape[2], flat = 16 * (side / 2) * (side / 2)
        network = Sequential([try Conv2d(1, 16, kernelSize: 3, padding: 1, generator: &g), ReLU(), MaxPool2d(2), Flatten(),
                              Linear(flat, 64, generator: &g), ReLU(), Linear(64, train.numClasses, generator: &g)])
    }

    var trainingSamples: Int { train.count }
    func trainingBatch(_ indices: [Int], step: Int) throws -> (inputs: Tensor, labels: [Int]) { try train.makeBatch(indices: indices) }
    func trainingStep(_ batch: (inputs: Tensor, labels: [Int])) throws -> Tensor { try Loss.crossEntropy(network(batch.inputs), batch.labels) }

    func validate(_ context: ValidationContext) throws -> [Metric] { try score(validation, "val_", context) }
    func test(_ context: ValidationContext) throws -> [Metric] { try score(test, "test_", context) }
    /// Accuracy and loss over `data`: each rank scores its share, the counts are summed.
    func score(_ data: ClassificationDataset, _ prefix: String, _ context: ValidationContext) throws -> [Metric] {
        let batch = try data.makeBatch(indices: context.share(of: data.count))
        let logits = try network(batch.inputs)
        let correct = zip(try logits.argmax(axis: -1).scalars, batch.labels).filter { Int($0) == $1 }.count
        let lossSum = Double(try Loss.crossEntropy(logits, batch.labels).item()) * Double(batch.labels.count)
        let totals = try context.sum([Double(correct), lossSum])
        return [Metric(name: prefix + "accuracy", value: totals[0] / Double(data.count)), Metric(name: prefix + "loss", value: totals[1] / Double(data.count))]
    }

    func configureOptimizers(_ parameters: ParameterArena, totalSteps: Int) -> (optimizer: any Optimizer, schedule: any LRSchedule) {
        (AdamW(parameters, lr: 2e-3, weightDecay: 0.01), CosineWithWarmup(base: 2e-3, warmup: 20, total: totalSteps, minimum: 2e-5))
    }
}

CohortRuntime.main { runtime in   // the launcher's --checkpoint-dir, --resume, … are taken out of runtime.arguments
    var options = TrainerOptions()
    options.globalBatch = 64
    options.epochs = 3
    options.validateEvery = 100
    options.checkpointDirectory = "runs/trainer-example"
    var dataDirectory: String?
    var rest = runtime.arguments[...]
    while let argument = rest.popFirst() {
        switch argument {
        case "--deterministic": options.virtualShards = 4
        case "--steps": options.steps = rest.popFirst().flatMap { Int($0) }
        case "--checkpoint-every": options.checkpointEvery = rest.popFirst().flatMap { Int($0) } ?? options.checkpointEvery
        default: dataDirectory = argument
        }
    }
    let callbacks: [any Callback] = [ConsoleProgress(), LearningRateMonitor(), NaNGuard(),
                                     EarlyStopping(monitor: "val_loss", patience: 3), BestCheckpoint(monitor: "val_accuracy", mode: .max)]
    guard let result = try runtime.fit(try SmallCNN(dataDirectory: dataDirectory), options: options, callbacks: callbacks) else { return }   // preempted
    if runtime.rank == 0 {
        print(result.metrics.map(\.text).joined(separator: ", ") + String(format: " after %d steps (%.0f samples/s)", result.steps, result.samplesPerSecond))
        print("weights sha256 \(result.weightsSHA256)")
    }
}
