// Manual optimization, Lightning's `automatic_optimization = False`: a module with
// several parameter sets, each with its own optimizer and schedule, that runs its
// own sequence of optimization calls per batch (a GAN: the discriminator, then the
// generator). The Trainer keeps everything else: data order and cursor, gradient
// reduction of the set that steps (DDP averaging, or the fixed-order tree in
// deterministic mode), clipping, the NaN policy, checkpoints holding every set's
// optimizer state, resume, validation and callbacks.
import CohortCore
import CohortNN
import CohortOptim
import CohortTensor

/// A `TrainingModule` that optimizes its parameter sets itself. It implements
/// `configureOptimizerSets` and `manualTrainingStep` instead of `configureOptimizers` and
/// `trainingStep` (whose defaults here are never called).
public protocol ManualTrainingModule: TrainingModule {
    /// The parameter sets and their optimizers (each over `parameters`, see `OptimizerSet`), for a
    /// run of `totalSteps` steps. Sets must not overlap; parameters in no set are never updated.
    func configureOptimizerSets(_ parameters: ParameterArena, totalSteps: Int) throws -> [OptimizerSet]
    /// One training step: any sequence of `step.optimize(SET) { piece in loss }` calls.
    /// Returns the step's loss as the progress line and the loss history show it (e.g. the generator's).
    func manualTrainingStep(_ step: ManualStep<Batch>) throws -> Float
}

extension ManualTrainingModule {
    public func trainingStep(_ batch: Batch) throws -> Tensor {
        throw CohortError.invalidArgument("\(Self.self) optimizes manually: its steps are `manualTrainingStep`, not `trainingStep`")
    }
    public func configureOptimizers(_ parameters: ParameterArena, totalSteps: Int) -> (optimizer: any Optimizer, schedule: any LRSchedule) {
        (SGD(parameters, lr: 0), ConstantLR(0))   // not used: the Trainer asks `configureOptimizerSets`
    }
}

/// What `manualTrainingStep` gets: the step, this rank's pieces of its batch, and `optimize`.
public final class ManualStep<Batch> {
    /// The 1-based training step.
    public let step: Int
    /// This rank's pieces of the global batch: one, or several with gradient accumulation or
    /// deterministic mode's virtual shards. `optimize` runs its loss on each.
    public let pieces: [Batch]
    let run: (String, (Batch) throws -> Tensor) throws -> Float

    init(step: Int, pieces: [Batch], run: @escaping (String, (Batch) throws -> Tensor) throws -> Float) {
        self.step = step
        self.pieces = pieces
        self.run = run
    }

    /// One update of the optimizer set `set`, in one call so that the Trainer can run it per piece
    /// and reduce exactly this set: every gradient is zeroed; `loss` runs on each of this rank's
    /// pieces and is backpropagated (mean over the pieces); the set's gradients are averaged over
    /// the ranks (in deterministic mode along the fixed-order tree of virtual shards, so the result
    /// does not depend on the world size), clipped (`TrainerOptions.clipGradNorm`), checked for
    /// NaN/infinity (the NaN policy decides) and stepped by the set's optimizer at its schedule's
    /// rate. Parameters of other sets are not changed (their gradients are discarded).
    /// Collective: every rank makes the same calls in the same order.
    /// - Returns: this rank's loss, the mean over its pieces.
    /// - Throws: `CohortError.invalidParameter(name: "optimizerSets")` for a set that does not exist.
    @discardableResult
    public func optimize(_ set: String, loss: (Batch) throws -> Tensor) throws -> Float { try run(set, loss) }
}

/// A manual module's two entry points, with its batch type the loop's.
struct ManualHooks<Batch> {
    let sets: (ParameterArena, Int) throws -> [OptimizerSet]
    let step: (ManualStep<Batch>) throws -> Float
}

/// `module`'s manual entry points, or nil for automatic optimization.
func manualHooks<M: TrainingModule>(_ module: M) -> ManualHooks<M.Batch>? {
    guard let manual = module as? any ManualTrainingModule else { return nil }
    func open<T: ManualTrainingModule>(_ t: T) -> ManualHooks<M.Batch> {
        // T is M's dynamic type, so a ManualStep<M.Batch> is a ManualStep<T.Batch>.
        ManualHooks(sets: { try t.configureOptimizerSets($0, totalSteps: $1) },
                    step: { step in try t.manualTrainingStep(step as! ManualStep<T.Batch>) })
    }
    return open(manual)
}

/// The learning rate the loop logs for optimizer sets: the first set's schedule.
struct FirstSetSchedule: LRSchedule {
    let first: any LRSchedule
    func learningRate(at step: Int) -> Float { first.learningRate(at: step) }
}
