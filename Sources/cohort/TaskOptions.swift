// The settings a built-in task's TrainingModule reads beyond its data and network:
// the optimizer and schedule (`configureOptimizers`) and what names the training data
// (`dataIdentity`). `cohort train` fills it from its flags.
import CohortData
import CohortOptim
import CohortTrainer
import Foundation

/// Optimizer, schedule and data settings of a `TaskModule`.
struct TaskOptions: Sendable {
    /// Model name (`mlp`, `gpt`, …): sequence models read text or the addition corpus.
    var model = "mlp"
    /// The training data: an MNIST-format directory, a CSV or text file, `addition`; nil: built-in.
    var data: String?
    /// Digits per operand of the addition corpus.
    var digits = 3
    /// Seed of the generated data sets.
    var seed: UInt64 = 0
    /// `sgd`, `adam`, `adamw` or `rmsprop`.
    var optimizer = "adam"
    var lr: Float = 1e-3
    var momentum: Float = 0.9
    var weightDecay: Float = 0
    /// `constant` or `cosine` (with 5 % warm-up, down to 1 % of `lr`).
    var lrSchedule = "cosine"

    func makeOptimizer(_ arena: ParameterArena) -> any Optimizer {
        switch optimizer {
        case "sgd": return SGD(arena, lr: lr, momentum: momentum, weightDecay: weightDecay)
        case "adamw": return AdamW(arena, lr: lr, weightDecay: weightDecay)
        case "rmsprop": return RMSprop(arena, lr: lr, momentum: momentum, weightDecay: weightDecay)
        default: return Adam(arena, lr: lr, weightDecay: weightDecay)
        }
    }

    /// The schedule for a run of `totalSteps`.
    func makeSchedule(totalSteps: Int) -> any LRSchedule {
        lrSchedule == "cosine" ? CosineWithWarmup(base: lr, warmup: max(totalSteps / 20, 1), total: totalSteps, minimum: lr * 0.01) : ConstantLR(lr)
    }
}
