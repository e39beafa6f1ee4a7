// The Trainer on a small classifier in one process: it learns, validates on a
// schedule, finishes early, guards against NaN, keeps the best checkpoint, and
// a resumed run ends bitwise where an uninterrupted one does.
import CohortCore
import CohortData
import CohortNN
import CohortOptim
import CohortTensor
@testable import CohortTrainer
import Foundation
import Testing

/// A two-layer MLP on the built-in synthetic classification set, with knobs for the tests.
final class TinyClassifier: TrainingModule {
    let network: any Module
    let train: ClassificationDataset, test: ClassificationDataset
    /// Steps whose loss is replaced by NaN.
    var poisonSteps: Set<Int> = []
    /// When set, validation reports these values of `score` in turn instead of measuring.
    var scripted: [Double] = []
    private var validations = 0

    init(seed: UInt64 = 1) throws {
        (train, test) = try SyntheticDataset.make(seed: seed, trainCount: 2048, testCount: 512)
        var g = RandomGenerator(seed: seed)
        network = Sequential([Linear(train.featureSize, 32, generator: &g), ReLU(), Linear(32, train.numClasses, generator: &g)])
    }

    var trainingSamples: Int { train.count }
    func trainingBatch(_ indices: [Int], step: Int) throws -> (inputs: Tensor, labels: [Int], step: Int) {
        let b = try train.makeBatch(indices: indices)
        return (b.inputs, b.labels, step)
    }
    func trainingStep(_ batch: (inputs: Tensor, labels: [Int], step: Int)) throws -> Tensor {
        let loss = try Loss.crossEntropy(network(batch.inputs), batch.labels)
        return poisonSteps.contains(batch.step) ? try loss * Float.nan : loss
    }
    func validate(_ context: ValidationContext) throws -> [Metric] {
        if !scripted.isEmpty {
            defer { validations += 1 }
            return [Metric(name: "score", value: scripted[min(validations, scripted.count - 1)])]
        }
        var correct: Int64 = 0
        let mine = context.share(of: test.count)
        let b = try test.makeBatch(indices: mine)
        let predicted = try network(b.inputs).argmax(axis: -1).scalars
        for (p, l) in zip(predicted, b.labels) where Int(p) == l { correct += 1 }
        let total = try context.sum([correct])[0]
        return [Metric(name: "accuracy", value: Double(total) / Double(test.count))]
    }
    func configureOptimizers(_ parameters: ParameterArena, totalSteps: Int) -> (optimizer: any Optimizer, schedule: any LRSchedule) {
        (Adam(parameters, lr: 3e-3), ConstantLR(3e-3))
    }
}

/// Records what the trainer reported.
final class Recorder: Callback {
    var steps: [StepReport] = [], logs: [(Int, [String])] = [], validations: [(Int, [Metric])] = []
    var ended: FitResult?
    var wantsGradientNorm: Bool { true }
    func onTrainStepEnd(_ trainer: Trainer, _ report: StepReport) throws { steps.append(report) }
    func onLog(_ trainer: Trainer, step: Int, phase: LogPhase, values: [(name: String, value: Double)]) throws {
        if phase == .train { logs.append((step, values.map(\.name))) }
    }
    func onValidationEnd(_ trainer: Trainer, step: Int, metrics: [Metric]) throws { validations.append((step, metrics)) }
    func onFitEnd(_ trainer: Trainer, _ result: FitResult) throws { ended = result }
}

func options(steps: Int, _ edit: (inout TrainerOptions) -> Void = { _ in }) -> TrainerOptions {
    var o = TrainerOptions()
    o.globalBatch = 64
    o.steps = steps
    o.logEvery = 10
    edit(&o)
    return o
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "cohort-trainer-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

@Suite struct TrainerTests {
    @Test func learnsValidatesAndLogs() throws {
        let model = try TinyClassifier()
        let recorder = Recorder()
        let trainer = try Trainer(options(steps: 200) { $0.validateEvery = 50; $0.logEvery = 20 }, callbacks: [recorder, LearningRateMonitor()])
        let result = try trainer.fit(model)
        #expect(result.steps == 200 && result.finishedEarly == nil && result.preemption == nil)
        let early = result.losses.prefix(10).reduce(0, +) / 10, late = result.losses.suffix(10).reduce(0, +) / 10
        #expect(result.losses.count == 200 && late < early * 0.7, "loss \(early) → \(late)")
        let accuracies = recorder.validations.map { $0.1[0].value }
        #expect(accuracies.last! > accuracies.first! + 0.1 && accuracies.last! > 0.6, "accuracy \(accuracies)")
        // Validations at 50, 100 and 150 during training, then the final one at 200.
        #expect(recorder.validations.map(\.0) == [50, 100, 150, 200])
        #expect(recorder.steps.map(\.step) == Array(1...200))
        #expect(recorder.steps.allSatisfy { $0.gradientNorm.map { $0.isFinite && $0 > 0 } ?? false })
        let trainLogs = recorder.logs
        #expect(trainLogs.map(\.0) == Array(stride(from: 20, through: 200, by: 20)))
        #expect(trainLogs.allSatisfy { $0.1.contains("lr") && $0.1.contains("samples_per_sec") })
        #expect(recorder.ended?.steps == 200)
    }

    @Test func earlyStoppingFinishesAfterPatienceValidations() throws {
        let model = try TinyClassifier()
        model.scripted = [1.0, 0.5, 0.6, 0.55, 0.7, 0.4]   // best 0.5 at the 2nd validation; 3 worse ones follow
        let stopper = EarlyStopping(monitor: "score", mode: .min, patience: 3)
        let result = try Trainer(options(steps: 200) { $0.validateEvery = 10 }, callbacks: [stopper]).fit(model)
        #expect(result.steps == 50, "finished at \(result.steps)")
        #expect(result.finishedEarly?.contains("score") == true)
        #expect(stopper.best == 0.5)
    }

    @Test func earlyStoppingNamesAMissingMetric() throws {
        let model = try TinyClassifier()
        #expect {
            try Trainer(options(steps: 20) { $0.validateEvery = 10 }, callbacks: [EarlyStopping(monitor: "val_loss")]).fit(model)
        } throws: { "\($0)".contains("val_loss") && "\($0)".contains("accuracy") }
    }

    @Test func aSetUpThatFailsLeavesNoTraceRecorderInstalled() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let marker = 12_345   // this fit's recorder, told apart from another suite's by its capacity
        let o = options(steps: 5) {
            var trace = TraceSettings(path: dir + "/trace.json")
            trace.eventsPerThread = marker
            $0.trace = trace
            $0.extend = true   // without `resume`: refused after the recorder was installed
        }
        #expect(throws: CohortError.self) { try Trainer(o, callbacks: []).fit(try TinyClassifier()) }
        #expect(Trace.recorder?.capacityPerThread != marker, "the failed fit's recorder is still installed")
    }

    @Test func nonFiniteLossStopsWithTheStepNamed() throws {
        let model = try TinyClassifier()
        model.poisonSteps = [7]
        #expect {
            try Trainer(options(steps: 20), callbacks: []).fit(model)
        } throws: { error in
            guard case CohortError.nonFinite(let message) = error else { return false }
            return message.contains("step 7") && message.contains("NaN")
        }
    }

    @Test func nanGuardSkipsTheUpdateAndGoesOn() throws {
        let model = try TinyClassifier()
        model.poisonSteps = [5, 6]
        let recorder = Recorder()
        let guardian = NaNGuard(maxConsecutive: 3)
        let trainer = try Trainer(options(steps: 12), callbacks: [guardian, recorder])
        // Parameters after step 4 and after step 6 must be equal: both updates were skipped.
        final class Snapshot: Callback {
            var after: [Int: String] = [:]
            func onTrainStepEnd(_ trainer: Trainer, _ report: StepReport) throws { after[report.step] = trainer.parameters!.sha256() }
        }
        let snap = Snapshot()
        trainer.callbacks.append(snap)
        let result = try trainer.fit(model)
        #expect(result.steps == 12 && result.skippedUpdates == 2 && guardian.skipped == 2)
        #expect(snap.after[4] == snap.after[6] && snap.after[6] != snap.after[7])
        #expect(recorder.steps.filter(\.skipped).map(\.step) == [5, 6])
        #expect(result.trainLoss.isFinite)
    }

    @Test func nanGuardStopsAfterTooManyInARow() throws {
        let model = try TinyClassifier()
        model.poisonSteps = [3, 4, 5]
        #expect(throws: CohortError.self) { try Trainer(options(steps: 12), callbacks: [NaNGuard(maxConsecutive: 2)]).fit(model) }
    }

    @Test func resumedRunEndsBitwiseWhereAnUninterruptedOneDoes() throws {
        let straight = try Trainer(options(steps: 24), callbacks: []).fit(try TinyClassifier())
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try Trainer(options(steps: 24) { $0.checkpointDirectory = dir; $0.checkpointEvery = 10 }, callbacks: [])
        // Interrupt after step 10: a callback asks to finish (a checkpoint of step 10 is saved either way).
        final class StopAt: Callback {
            func onTrainStepEnd(_ trainer: Trainer, _ report: StepReport) throws { if report.step == 9 { trainer.requestFinish("test") } }
        }
        first.callbacks = [StopAt()]
        let partial = try first.fit(try TinyClassifier())
        #expect(partial.steps == 10 && partial.finishedEarly == "test")
        let resumed = try Trainer(options(steps: 24) { $0.checkpointDirectory = dir; $0.checkpointEvery = 10; $0.resume = "auto" }, callbacks: []).fit(try TinyClassifier())
        #expect(resumed.startStep == 10 && resumed.steps == 24)
        #expect(resumed.weightsSHA256 == straight.weightsSHA256)
        #expect(resumed.losses == straight.losses)
    }

    @Test func haltAtFinishesAtThatStepAndResumes() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let halted = try Trainer(options(steps: 30) { $0.checkpointDirectory = dir }, callbacks: [HaltAt(step: 7)]).fit(try TinyClassifier())
        #expect(halted.steps == 7 && halted.finishedEarly == "halted at step 7" && !halted.metrics.isEmpty)
        let next = try Trainer(options(steps: 30) { $0.checkpointDirectory = dir; $0.resume = "auto" }, callbacks: [HaltAt(step: 19)]).fit(try TinyClassifier())
        #expect(next.startStep == 7 && next.steps == 19)
        let straight = try Trainer(options(steps: 30), callbacks: []).fit(try TinyClassifier())
        let rest = try Trainer(options(steps: 30) { $0.checkpointDirectory = dir; $0.resume = "auto" }, callbacks: []).fit(try TinyClassifier())
        #expect(rest.weightsSHA256 == straight.weightsSHA256)
    }

    @Test func bestCheckpointKeepsTheBestValidation() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try TinyClassifier()
        model.scripted = [0.9, 0.3, 0.5, 0.6]   // best at step 20
        let best = BestCheckpoint(monitor: "score", mode: .min)
        _ = try Trainer(options(steps: 40) { $0.validateEvery = 10; $0.checkpointDirectory = dir }, callbacks: [best]).fit(model)
        let kept = try FileManager.default.contentsOfDirectory(atPath: dir + "/best").filter { $0.hasPrefix("step-") }
        #expect(kept == ["step-00000020"], "\(kept)")
        #expect(best.best == 0.3)
    }

    @Test func badBatchSettingsNameTheParameter() throws {
        #expect { try Trainer(options(steps: 5) { $0.globalBatch = 4096 }, callbacks: []).fit(try TinyClassifier()) } throws: {
            "\($0)".hasPrefix("globalBatch: ") && "\($0)".contains("2048")
        }
        #expect { try Trainer(options(steps: 5) { $0.accumulate = 5 }, callbacks: []).fit(try TinyClassifier()) } throws: {
            "\($0)".hasPrefix("accumulate: ")
        }
    }
}
