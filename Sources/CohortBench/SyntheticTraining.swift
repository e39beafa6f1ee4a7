// The setup the training workloads W1–W4 share: the model drawn from the seed, its
// parameter arena, the optimizer over it, synthetic batches drawn from seed + 1 (labels
// or tokens), and the training step over those batches in turn.
import CohortCore
import CohortNN
import CohortOptim
import CohortTensor

/// A workload's model, optimizer and synthetic batches, built from one seed, and its step.
struct SyntheticTraining<Model: Module, Opt: Optimizer, Batch> {
    let model: Model
    let arena: ParameterArena
    let optimizer: Opt
    /// The synthetic batches, trained on in turn (a workload may replace them before it runs).
    var batches: [Batch]
    private var next = 0

    /// Builds the model with a generator seeded with `seed`, the arena of its parameters, the
    /// optimizer over the arena, then the batches with a generator seeded with `seed + 1`.
    init(seed: UInt64, model build: (inout RandomGenerator) throws -> Model, optimizer: (ParameterArena) -> Opt,
         batches draw: (inout RandomGenerator) -> [Batch]) rethrows {
        var g = RandomGenerator(seed: seed)
        model = try build(&g)
        arena = ParameterArena(model)
        self.optimizer = optimizer(arena)
        var d = RandomGenerator(seed: seed &+ 1)
        batches = draw(&d)
    }

    /// One training step on the next batch: gradients zeroed, the batch's `loss`, backward,
    /// `beforeUpdate`, the optimizer's step; returns the loss.
    @discardableResult
    mutating func step(beforeUpdate: () throws -> Void = {}, loss: (Model, Batch) throws -> Tensor) throws -> Float {
        let i = next % batches.count
        next += 1
        optimizer.zeroGrad()
        let value = try loss(model, batches[i])
        try value.backward()
        try beforeUpdate()
        optimizer.step()
        return try value.item()
    }
}

/// Synthetic batches as the peers' scripts draw them: every batch's inputs first, then every
/// batch's targets.
enum SyntheticBatches {
    /// `count` batches of normal inputs of `shape` with class labels below `classes` (one per row).
    static func labelled(_ d: inout RandomGenerator, count: Int, shape: [Int], classes: Int) -> [(inputs: Tensor, labels: [Int])] {
        let inputs = (0..<count).map { _ in Tensor.randn(shape, generator: &d) }
        let labels = (0..<count).map { _ in (0..<shape[0]).map { _ in d.nextInt(below: classes) } }
        return zip(inputs, labels).map { (inputs: $0, labels: $1) }
    }

    /// `count` batches of `length` tokens below `vocabulary` and as many target tokens.
    static func tokens(_ d: inout RandomGenerator, count: Int, length: Int, vocabulary: Int) -> [(tokens: [Int], targets: [Int])] {
        let tokens = (0..<count).map { _ in (0..<length).map { _ in d.nextInt(below: vocabulary) } }
        let targets = (0..<count).map { _ in (0..<length).map { _ in d.nextInt(below: vocabulary) } }
        return zip(tokens, targets).map { (tokens: $0, targets: $1) }
    }
}
