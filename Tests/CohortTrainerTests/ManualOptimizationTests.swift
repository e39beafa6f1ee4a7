// Manual optimization (`ManualTrainingModule`): a step of one optimizer set changes
// only that set's parameters, by the update a hand computation gives; checkpoints
// hold every set's optimizer state and step count, so a run stopped and resumed
// ends bitwise where the uninterrupted one does; mistakes are errors naming them.
import CohortCheckpoint
import CohortCore
import CohortData
import CohortNN
import CohortOptim
import CohortTensor
@testable import CohortTrainer
import Foundation
import Testing

/// Two linear layers `first` → `second` (a small "actor" and "critic"), each its own optimizer set.
final class TwoSetModule: ManualTrainingModule {
    let first: Linear, second: Linear
    let net: Sequential
    let train: ClassificationDataset
    /// Which sets each step optimizes, in order (a set may step several times).
    var sequence = ["first", "second"]
    var kinds = ("sgd", "sgd")
    /// The losses the last step's `optimize` calls returned.
    var lastLosses: [Float] = []
    var network: any Module { net }

    init(seed: UInt64 = 3) throws {
        (train, _) = try SyntheticDataset.make(seed: seed, trainCount: 512, testCount: 64)
        var g = RandomGenerator(seed: seed)
        first = Linear(train.featureSize, 8, generator: &g)
        second = Linear(8, train.numClasses, generator: &g)
        net = Sequential([first, Tanh(), second])
    }

    var trainingSamples: Int { train.count }
    func trainingBatch(_ indices: [Int], step: Int) throws -> (inputs: Tensor, labels: [Int]) { try train.makeBatch(indices: indices) }

    func loss(_ batch: (inputs: Tensor, labels: [Int])) throws -> Tensor { try Loss.crossEntropy(net(batch.inputs), batch.labels) }

    func manualTrainingStep(_ step: ManualStep<(inputs: Tensor, labels: [Int])>) throws -> Float {
        lastLosses = try sequence.map { name in try step.optimize(name) { try self.loss($0) } }
        return lastLosses.last ?? 0
    }

    func configureOptimizerSets(_ parameters: ParameterArena, totalSteps: Int) throws -> [OptimizerSet] {
        func make(_ kind: String, _ lr: Float) -> any Optimizer { kind == "adam" ? Adam(parameters, lr: lr) : SGD(parameters, lr: lr) }
        return [try OptimizerSet("first", prefix: "0.", optimizer: make(kinds.0, 0.05), schedule: ConstantLR(0.05)),
                try OptimizerSet("second", prefix: "2.", optimizer: make(kinds.1, 0.02), schedule: ConstantLR(0.02))]
    }
}

@Suite struct ManualOptimizationTests {
    @Test func eachSetStepsOnlyItsParametersByTheHandComputedUpdate() throws {
        let module = try TwoSetModule()
        let reference = try TwoSetModule()   // same seed: the same weights and data
        let trainer = try Trainer(options(steps: 1) { $0.globalBatch = 32 }, callbacks: [])
        var ids: [Int] = []
        trainer.onBatchIndices = { _, batch in ids = batch }
        try trainer.fit(module)
        // By hand on the reference: SGD on `first` from the loss's gradient, then on `second` from the
        // gradient at the updated `first`.
        let batch = try reference.train.makeBatch(indices: ids)
        for (layer, lr) in [(reference.first, Float(0.05)), (reference.second, Float(0.02))] {
            reference.net.zeroGrad()
            try reference.loss(batch).backward()
            for p in layer.parameters() {
                let updated = try zip(p.scalars, #require(p.grad).scalars).map { $0 - lr * $1 }
                try p.assign(Tensor(updated, shape: p.shape))
            }
        }
        for (mine, theirs) in zip(module.net.namedParameters(), reference.net.namedParameters()) {
            let worst = zip(mine.tensor.scalars, theirs.tensor.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-6, "\(mine.name) differs from the hand computation by \(worst)")
        }
        #expect(module.lastLosses.count == 2 && module.lastLosses[1] < module.lastLosses[0])   // the second loss is after the first update
    }

    @Test func aStepOfOneSetLeavesTheOtherUnchanged() throws {
        let module = try TwoSetModule()
        module.sequence = ["second"]
        let before = module.first.weight.scalars
        let secondBefore = module.second.weight.scalars
        try Trainer(options(steps: 3) { $0.globalBatch = 32 }, callbacks: []).fit(module)
        #expect(module.first.weight.scalars == before)
        #expect(module.second.weight.scalars != secondBefore)
    }

    @Test func checkpointsHoldEverySetAndAResumeEndsBitwiseWhereTheUninterruptedRunDoes() throws {
        func run(_ steps: Int, dir: String? = nil, resume: String? = nil) throws -> (FitResult, TwoSetModule) {
            let module = try TwoSetModule()
            module.kinds = ("adam", "adam")
            module.sequence = ["first", "second", "first"]   // the sets' step counts differ
            let fit = try Trainer(options(steps: steps) { o in
                o.globalBatch = 32
                o.checkpointDirectory = dir
                o.checkpointEvery = 4
                o.resume = resume
            }, callbacks: []).fit(module)
            return (fit, module)
        }
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (whole, _) = try run(10)
        _ = try run(4, dir: dir)
        let saved = try #require(CheckpointStore(directory: dir).latestValid())
        let o = saved.manifest.optimizer
        #expect(o.kind == "sets[first=adam,second=adam]")
        #expect(o.buffers == ["first.exp_avg", "first.exp_avg_sq", "second.exp_avg", "second.exp_avg_sq"])
        #expect(o.hyperParameters.first { $0.name == "first.step" }?.value == 8)
        #expect(o.hyperParameters.first { $0.name == "second.step" }?.value == 4)
        #expect(saved.record("optimizer/first.exp_avg/0.weight") != nil)
        let (resumed, module) = try run(10, dir: dir, resume: "auto")
        #expect(resumed.startStep == 4)
        #expect(resumed.weightsSHA256 == whole.weightsSHA256)
        let sets = try #require(module.network as? Sequential).parameters().count
        #expect(sets == 4)
    }

    @Test func mistakesAreErrorsNamingThem() throws {
        final class Overlapping: ManualTrainingModule {
            let inner: TwoSetModule
            init() throws { inner = try TwoSetModule() }
            var network: any Module { inner.net }
            var trainingSamples: Int { inner.trainingSamples }
            func trainingBatch(_ indices: [Int], step: Int) throws -> (inputs: Tensor, labels: [Int]) { try inner.trainingBatch(indices, step: step) }
            func manualTrainingStep(_ step: ManualStep<(inputs: Tensor, labels: [Int])>) throws -> Float { try step.optimize("all") { try self.inner.loss($0) } }
            func configureOptimizerSets(_ parameters: ParameterArena, totalSteps: Int) throws -> [OptimizerSet] {
                [try OptimizerSet("all", prefix: "", optimizer: SGD(parameters, lr: 0.1), schedule: ConstantLR(0.1)),
                 try OptimizerSet("head", prefix: "2.", optimizer: SGD(parameters, lr: 0.1), schedule: ConstantLR(0.1))]
            }
        }
        #expect { try Trainer(options(steps: 1), callbacks: []).fit(try Overlapping()) } throws: { "\($0)".contains("2.weight is in sets all and head") }

        let unknown = try TwoSetModule()
        unknown.sequence = ["first", "critic"]
        #expect { try Trainer(options(steps: 1), callbacks: []).fit(unknown) } throws: {
            "\($0)".contains("no optimizer set is named critic (there are first, second)")
        }
        #expect { try Trainer(options(steps: 1) { $0.freeze = ["0.*"] }, callbacks: []).fit(try TwoSetModule()) } throws: {
            "\($0)".contains("freeze") && "\($0)".contains("optimizer sets")
        }
        var g = RandomGenerator(seed: 1)
        let arena = try ParameterArena(allocating: Sequential([Linear(2, 2, generator: &g)]))
        #expect { try OptimizerSet("x", prefix: "decoder.", optimizer: SGD(arena, lr: 0.1), schedule: ConstantLR(0.1)) } throws: {
            "\($0)".contains("no parameter name starts with 'decoder.'")
        }
    }
}
