// Callbacks: code that runs at fixed points of `Trainer.fit`, as in PyTorch
// Lightning. Every rank runs every callback; decisions that change the run
// (stop, skip an update) must depend only on values every rank shares — the
// agreed loss, the averaged gradients, the reduced validation metrics — so
// all ranks decide the same. `Trainer.requestFinish` is agreed across ranks in
// any case.
import CohortCore

/// What one completed training step reports to callbacks (the same on every rank).
public struct StepReport: Sendable {
    /// 1-based step just completed, and the run's total.
    public var step: Int, totalSteps: Int
    /// 1-based epoch of this step.
    public var epoch: Int
    /// The step's loss, averaged over ranks.
    public var loss: Float
    /// Learning rate the step used.
    public var learningRate: Float
    /// Global L2 norm of the averaged gradients before clipping (nil unless clipping or a callback asked).
    public var gradientNorm: Float?
    /// True when the update was skipped (a non-finite loss or gradient, see `NaNGuard`).
    public var skipped: Bool
    /// Samples of the global batch and this rank's seconds for the step (and of them, waiting for data).
    public var samples: Int, seconds: Double, dataSeconds: Double
}

/// A non-finite value met in a step, before the optimizer update.
public enum NonFiniteProblem: Sendable, CustomStringConvertible {
    /// The agreed loss; `culprit` names the first parameter with a non-finite value, if any.
    case loss(step: Int, value: Float, culprit: String?)
    /// A gradient (after averaging across ranks) of the named parameter.
    case gradient(step: Int, parameter: String, loss: Float)

    public var step: Int {
        switch self { case .loss(let s, _, _), .gradient(let s, _, _): return s }
    }

    public var description: String {
        switch self {
        case let .loss(step, value, culprit):
            let shown = value.isNaN ? "NaN" : (value > 0 ? "+infinity" : "-infinity")
            return "step \(step): the training loss is \(shown)" + (culprit.map { "; first non-finite parameter: \($0)" } ?? "")
        case let .gradient(step, parameter, loss):
            return "step \(step): gradient of \(parameter) is not finite (loss \(loss))"
        }
    }
}

/// What to do about a non-finite step.
public enum NonFiniteAction: Sendable {
    /// Skip this step's parameter update and go on.
    case skip
    /// End the run with an error naming the step.
    case stop
}

/// Hooks into `Trainer.fit`; every method has an empty default.
public protocol Callback: AnyObject {
    /// Before the first step (after a resume, `trainer.step` is the resumed step).
    func onFitStart(_ trainer: Trainer) throws
    /// After each step's update (or skipped update).
    func onTrainStepEnd(_ trainer: Trainer, _ report: StepReport) throws
    /// Scalars logged at `step`: every `logEvery` steps in the `.train` phase (`train_loss`,
    /// `samples_per_sec` and whatever callbacks added with `Trainer.log`), and the metrics of
    /// each validation in the `.validation` phase, and the test metrics at the end (`test_*` for the
    /// final weights, `best_test_*` and `best_step` for the best checkpoint) in the `.test` phase.
    func onLog(_ trainer: Trainer, step: Int, phase: LogPhase, values: [(name: String, value: Double)]) throws
    /// After each validation, with the metrics reduced over all ranks.
    func onValidationEnd(_ trainer: Trainer, step: Int, metrics: [Metric]) throws
    /// A non-finite loss or gradient: return an action, or nil to leave it to other callbacks
    /// (if none acts, the run stops with an error).
    func onNonFinite(_ trainer: Trainer, _ problem: NonFiniteProblem) -> NonFiniteAction?
    /// After the last step and the final validation (not after a preemption).
    func onFitEnd(_ trainer: Trainer, _ result: FitResult) throws
    /// True when the callback reads `StepReport.gradientNorm` (the norm costs one pass over the gradients).
    var wantsGradientNorm: Bool { get }
}

extension Callback {
    public func onFitStart(_ trainer: Trainer) throws {}
    public func onTrainStepEnd(_ trainer: Trainer, _ report: StepReport) throws {}
    public func onLog(_ trainer: Trainer, step: Int, phase: LogPhase, values: [(name: String, value: Double)]) throws {}
    public func onValidationEnd(_ trainer: Trainer, step: Int, metrics: [Metric]) throws {}
    public func onNonFinite(_ trainer: Trainer, _ problem: NonFiniteProblem) -> NonFiniteAction? { nil }
    public func onFitEnd(_ trainer: Trainer, _ result: FitResult) throws {}
    public var wantsGradientNorm: Bool { false }
}

/// Where logged scalars come from.
public enum LogPhase: String, Sendable {
    case train, validation, test
}

/// Whether larger or smaller values of a monitored metric are better.
public enum MonitorMode: String, Sendable {
    case min, max

    /// True when `value` beats `best` by more than `delta`.
    func improves(_ value: Double, over best: Double?, delta: Double = 0) -> Bool {
        guard let best else { return value.isFinite }
        return self == .min ? value < best - delta : value > best + delta
    }
}
