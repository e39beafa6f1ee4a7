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
    /// `constant`, `cosine` (with 5 % warm-up unless `schedule.warmup`, down to 1 % of `lr`), `step`,
    /// `multistep`, `exponential`, `onecycle` or `plateau` (`ScheduleSettings`).
    public var lrSchedule = "cosine"
    /// The schedule's settings beyond its kind.
    public var schedule = ScheduleSettings()
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

    /// The schedule for a run of `totalSteps` (an unknown kind: constant).
    public func makeSchedule(totalSteps: Int) -> any LRSchedule {
        let s = schedule
        func warm<S: LRSchedule>(_ base: S) -> any LRSchedule { s.warmup.map { LinearWarmup(base, steps: $0) } ?? base }
        switch lrSchedule {
        case "cosine": return CosineWithWarmup(base: lr, warmup: s.warmup ?? max(totalSteps / 20, 1), total: totalSteps, minimum: lr * 0.01)
        case "step": return warm(StepLR(base: lr, stepSize: s.stepSize, gamma: s.gamma ?? 0.1))
        case "multistep": return warm(MultiStepLR(base: lr, milestones: s.milestones, gamma: s.gamma ?? 0.1))
        case "exponential": return warm(ExponentialLR(base: lr, gamma: s.gamma ?? 1))
        case "onecycle": return OneCycleLR(maximum: s.maximum ?? lr, total: totalSteps, pctStart: s.pctStart)
        case "plateau":
            let plateau = ReduceLROnPlateau(base: lr, factor: s.factor, patience: s.patience, monitors: ScheduleSettings.plateauMonitors)
            return s.warmup.map { WarmupStateful(plateau, steps: $0) } ?? plateau
        default: return warm(ConstantLR(lr))
        }
    }
}

/// The settings of the learning-rate schedules beyond their kind (`cohort train`'s `--warmup`, `--lr-*`).
public struct ScheduleSettings: Sendable {
    /// Steps of linear warm-up; nil: none (cosine: 5 % of the run).
    public var warmup: Int?
    /// `step`: steps between decays.
    public var stepSize = 1
    /// `step`, `multistep` (default 0.1), `exponential`: the factor.
    public var gamma: Float?
    /// `multistep`: the steps at which the rate is multiplied by `gamma`.
    public var milestones: [Int] = []
    /// `onecycle`: the peak rate (default `lr`) and the fraction of steps rising to it.
    public var maximum: Float?
    public var pctStart = 0.3
    /// `plateau`: bad validations tolerated, and the factor applied after more.
    public var patience = 10
    public var factor: Float = 0.1
    /// The validation metrics `plateau` follows, the first one reported: the loss of text tasks,
    /// the log-loss of classification, the RMSE of regression.
    public static let plateauMonitors = ["val_loss", "val_log_loss", "val_rmse"]

    public init() {}
}
