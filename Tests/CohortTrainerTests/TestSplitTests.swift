// The test split in `Trainer.fit`: `TrainingModule.test` runs once after training (and
// once more for the best checkpoint, whose weights it really sees), never during
// periodic validation; early stopping and the best checkpoint follow validation
// metrics only; a resumed run continues the best-so-far comparison.
import CohortCore
import CohortData
import CohortNN
import CohortOptim
import CohortTensor
@testable import CohortTrainer
import Foundation
import Testing

/// A classifier whose validation reports scripted `val_score`s and whose test reports the sum
/// of its weights (`test_weight_sum`), so a test result says which weights it saw.
final class SelectionModel: TrainingModule {
    let inner: TinyClassifier
    var network: any Module { inner.network }
    var scripted: [Double]
    private(set) var validations = 0, tests = 0
    /// How many tests had run at each validation (must stay 0 during training).
    private(set) var testsSeenByValidation: [Int] = []

    init(scripted: [Double]) throws { inner = try TinyClassifier(); self.scripted = scripted }

    var trainingSamples: Int { inner.trainingSamples }
    func trainingBatch(_ indices: [Int], step: Int) throws -> (inputs: Tensor, labels: [Int], step: Int) { try inner.trainingBatch(indices, step: step) }
    func trainingStep(_ batch: (inputs: Tensor, labels: [Int], step: Int)) throws -> Tensor { try inner.trainingStep(batch) }
    func validate(_ context: ValidationContext) throws -> [Metric] {
        defer { validations += 1 }
        testsSeenByValidation.append(tests)
        return [Metric(name: "val_score", value: scripted[min(validations, scripted.count - 1)])]
    }
    func test(_ context: ValidationContext) throws -> [Metric] {
        tests += 1
        return [Metric(name: "test_weight_sum", value: SelectionModel.weightSum(network))]
    }
    func configureOptimizers(_ parameters: ParameterArena, totalSteps: Int) -> (optimizer: any Optimizer, schedule: any LRSchedule) {
        inner.configureOptimizers(parameters, totalSteps: totalSteps)
    }
    static func weightSum(_ network: any Module) -> Double {
        network.parameters().reduce(0.0) { sum, t in t.contiguous().scalars.reduce(sum) { $0 + Double($1) } }
    }
}

/// Weight sums at each validation step, and what was logged in the test phase.
final class WeightWatcher: Callback {
    var sums: [Int: Double] = [:]
    var tested: [(step: Int, values: [String: Double])] = []
    weak var model: SelectionModel?
    func onValidationEnd(_ trainer: Trainer, step: Int, metrics: [Metric]) throws {
        if let model { sums[step] = SelectionModel.weightSum(model.network) }
    }
    func onLog(_ trainer: Trainer, step: Int, phase: LogPhase, values: [(name: String, value: Double)]) throws {
        if phase == .test { tested.append((step, Dictionary(uniqueKeysWithValues: values.map { ($0.name, $0.value) }))) }
    }
}

@Suite struct TestSplitTests {
    @Test func bestCheckpointIsChosenOnValidationAndTestedOnItsOwnWeights() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try SelectionModel(scripted: [0.9, 0.2, 0.5, 0.4, 0.6])   // best (min) at step 20
        let watcher = WeightWatcher()
        watcher.model = model
        let best = BestCheckpoint(monitor: "val_score", mode: .min)
        let result = try Trainer(options(steps: 50) { $0.validateEvery = 10; $0.checkpointDirectory = dir }, callbacks: [best, watcher]).fit(model)
        #expect(model.validations == 5 && model.testsSeenByValidation == [0, 0, 0, 0, 0], "the test split ran during training")
        #expect(model.tests == 2)   // the final weights, and the best checkpoint's
        let b = try #require(result.best)
        #expect(b.step == 20 && b.monitor == "val_score" && b.value == 0.2)
        // The best checkpoint's test saw the weights of step 20, the final test those of step 50.
        let bestSum = try #require(b.testMetrics.first { $0.name == "best_test_weight_sum" }?.value)
        #expect(bestSum == watcher.sums[20] && bestSum != watcher.sums[50])
        #expect(result.testMetrics.map(\.name) == ["test_weight_sum"] && result.testMetrics[0].value == watcher.sums[50])
        #expect(result.validationMetrics.map(\.name) == ["val_score"] && result.metrics.map(\.name) == ["val_score", "test_weight_sum"])
        // The final weights are back after the best checkpoint's test.
        #expect(SelectionModel.weightSum(model.network) == watcher.sums[50])
        // One test-phase log record at the last step, with both.
        #expect(watcher.tested.count == 1 && watcher.tested[0].step == 50)
        let logged = watcher.tested[0].values
        #expect(logged["test_weight_sum"] == watcher.sums[50] && logged["best_test_weight_sum"] == watcher.sums[20])
        #expect(logged["best_step"] == 20 && logged["best_val_score"] == 0.2)
    }

    @Test func withoutABestCheckpointTheTestRunsOnceAtTheEnd() throws {
        let model = try SelectionModel(scripted: [0.5, 0.6, 0.7, 0.8])
        let stopper = EarlyStopping(monitor: "val_score", mode: .min, patience: 2)
        let result = try Trainer(options(steps: 200) { $0.validateEvery = 10 }, callbacks: [stopper]).fit(model)
        // Early stopping follows val_score: best at step 10, two worse validations → step 30.
        #expect(result.steps == 30 && result.finishedEarly?.contains("val_score") == true)
        #expect(model.tests == 1 && model.testsSeenByValidation.allSatisfy { $0 == 0 } && result.best == nil)
    }

    @Test func aResumedRunKeepsTheBestSoFar() throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let o = options(steps: 50) { $0.validateEvery = 10; $0.checkpointDirectory = dir; $0.checkpointEvery = 10 }
        let first = try SelectionModel(scripted: [0.9, 0.2, 0.5])   // best at step 20; halted at 30
        _ = try Trainer(o, callbacks: [BestCheckpoint(monitor: "val_score", mode: .min), HaltAt(step: 30)]).fit(first)
        var resumed = o
        resumed.resume = "auto"
        let second = try SelectionModel(scripted: [0.3, 0.25])   // worse than 0.2: step 20 stays the best
        let keeper = BestCheckpoint(monitor: "val_score", mode: .min)
        let result = try Trainer(resumed, callbacks: [keeper]).fit(second)
        #expect(result.startStep == 30 && keeper.best == 0.2 && keeper.bestStep == 20)
        #expect(result.best?.step == 20 && result.best?.value == 0.2)
        let kept = try FileManager.default.contentsOfDirectory(atPath: dir + "/best").filter { $0.hasPrefix("step-") }
        #expect(kept == ["step-00000020"], "\(kept)")
    }

    @Test func testPhaseTagsInTensorBoard() {
        #expect(RunLogger.tag("test_accuracy", .test) == "test/accuracy")
        #expect(RunLogger.tag("best_test_accuracy", .test) == "best/test_accuracy" && RunLogger.tag("best_step", .test) == "best/step")
        #expect(RunLogger.tag("val_accuracy", .validation) == "val/accuracy")
    }
}
