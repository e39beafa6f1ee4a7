// The settings a built-in task's TrainingModule reads beyond its data and network:
// the optimizer and schedule (`configureOptimizers`) and what names the training data
// (`dataIdentity`). `cohort train` fills it from its flags.
import CohortData
import CohortNN
import CohortOptim
import CohortTrainer
import Foundation

/// Optimizer, schedule and data settings of a `TaskModule`.
public struct TaskOptions: Sendable {
    /// Model name (`mlp`, `gpt`, …): sequence models read text or the addition corpus.
    public var model = "mlp"
    /// The training data: an MNIST-format directory, a CSV or text file, `addition`; nil: built-in.
    public var data: String?
    /// Digits per operand of the addition corpus.
    public var digits = 3
    /// Seed of the generated data sets.
    public var seed: UInt64 = 0
    /// `sgd`, `adam`, `adamw` or `rmsprop`.
    public var optimizer = "adam"
    public var lr: Float = 1e-3
    public var momentum: Float = 0.9
    public var weightDecay: Float = 0
    /// `constant` or `cosine` (with 5 % warm-up, down to 1 % of `lr`).
    public var lrSchedule = "cosine"
    /// Label smoothing ε of the training cross-entropy (`--label-smoothing`; 0: off).
    public var labelSmoothing: Float = 0
    /// Parameter groups by name (`--param-group`), before the default group.
    public var parameterGroups = ParameterGroupRules()
    /// Whether `weightDecay` applies to every parameter; false: biases, norm gains and embedding
    /// tables get none (`Module.weightDecayExemptNames`).
    public var decayAll = false

    public init(model: String = "mlp", data: String? = nil, digits: Int = 3, seed: UInt64 = 0, optimizer: String = "adam",
                lr: Float = 1e-3, momentum: Float = 0.9, weightDecay: Float = 0, lrSchedule: String = "cosine") {
        (self.model, self.data, self.digits, self.seed, self.optimizer) = (model, data, digits, seed, optimizer)
        (self.lr, self.momentum, self.weightDecay, self.lrSchedule) = (lr, momentum, weightDecay, lrSchedule)
    }

    /// The optimizer over `arena` (the parameters of `network`) with `parameterGroups`, then the
    /// default group (without decay for `network`'s exempt parameters unless `decayAll`).
    public func makeOptimizer(_ arena: ParameterArena, network: any Module) -> any Optimizer {
        let made: any Optimizer
        switch optimizer {
        case "sgd": made = SGD(arena, lr: lr, momentum: momentum, weightDecay: weightDecay)
        case "adamw": made = AdamW(arena, lr: lr, weightDecay: weightDecay)
        case "rmsprop": made = RMSprop(arena, lr: lr, momentum: momentum, weightDecay: weightDecay)
        default: made = Adam(arena, lr: lr, weightDecay: weightDecay)
        }
        let groups = parameterGroups.groups(arena, weightDecay: weightDecay, noDecay: decayAll ? [] : network.weightDecayExemptNames())
        try? made.setParameterGroups(groups)   // built from the arena's own entries, each in one group: always valid
        return made
    }

    /// The schedule for a run of `totalSteps`.
    public func makeSchedule(totalSteps: Int) -> any LRSchedule {
        lrSchedule == "cosine" ? CosineWithWarmup(base: lr, warmup: max(totalSteps / 20, 1), total: totalSteps, minimum: lr * 0.01) : ConstantLR(lr)
    }
}
