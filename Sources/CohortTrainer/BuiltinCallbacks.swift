// The callbacks that ship with the Trainer: early stopping, best-model
// checkpoints, learning-rate and gradient-norm monitors, the NaN guard and the
// plain progress lines.
import CohortCheckpoint
import CohortCore
import Foundation

/// Ends the run when a validation metric has not improved for `patience` validations
/// (validation runs every `TrainerOptions.validateEvery` steps).
public final class EarlyStopping: Callback {
    public let monitor: String, mode: MonitorMode, patience: Int, minDelta: Double
    public private(set) var best: Double?
    public private(set) var stale = 0

    public init(monitor: String, mode: MonitorMode = .min, patience: Int = 3, minDelta: Double = 0) {
        self.monitor = monitor; self.mode = mode; self.patience = max(patience, 1); self.minDelta = minDelta
    }

    public func onValidationEnd(_ trainer: Trainer, step: Int, metrics: [Metric]) throws {
        let value = try monitored(monitor, in: metrics, by: "EarlyStopping")
        if mode.improves(value, over: best, delta: minDelta) {
            best = value; stale = 0
            return
        }
        stale += 1
        if stale >= patience {
            trainer.requestFinish("early stopping: \(monitor) has not improved on \(String(format: "%.4g", best ?? .nan)) for \(stale) validations")
        }
    }
}

/// Keeps the checkpoint with the best validation value of `monitor` in
/// `<checkpoint dir>/best/` (one checkpoint, replaced atomically when beaten; its metadata
/// holds `best_monitor` and `best_value`, so a resumed run continues the comparison). The
/// newest periodic checkpoint in the checkpoint directory is the "last" one. At the end of
/// `fit` the Trainer tests the best checkpoint once (`FitResult.best`).
public final class BestCheckpoint: Callback {
    public let monitor: String, mode: MonitorMode
    public private(set) var best: Double?
    /// The step of the best checkpoint (saved by this run, or found on a resume).
    public private(set) var bestStep: Int?
    /// Name of the sub-directory of the checkpoint directory.
    public static let directoryName = "best"
    /// Metadata keys of the best checkpoint: the monitored metric and its value.
    public static let monitorKey = "best_monitor", valueKey = "best_value"

    public init(monitor: String, mode: MonitorMode = .min) { self.monitor = monitor; self.mode = mode }

    public func onFitStart(_ trainer: Trainer) throws {
        guard let dir = trainer.options.checkpointDirectory else {
            throw CohortError.invalidArgument("BestCheckpoint(\(monitor)) needs a checkpoint directory (TrainerOptions.checkpointDirectory, --checkpoint-dir)")
        }
        // A resumed run must beat the best so far, not the first validation after the resume.
        guard trainer.step > 0, let kept = CheckpointStore(directory: dir + "/" + BestCheckpoint.directoryName).latestValid(),
              kept.manifest.step <= trainer.step else { return }
        let meta = kept.manifest.metadata
        if meta.first(where: { $0.key == BestCheckpoint.monitorKey })?.value == monitor,
           let value = meta.first(where: { $0.key == BestCheckpoint.valueKey }).flatMap({ Double($0.value) }) {
            (best, bestStep) = (value, kept.manifest.step)
        }
    }

    public func onValidationEnd(_ trainer: Trainer, step: Int, metrics: [Metric]) throws {
        let value = try monitored(monitor, in: metrics, by: "BestCheckpoint")
        guard mode.improves(value, over: best) else { return }
        (best, bestStep) = (value, step)
        try trainer.saveCheckpoint(subdirectory: BestCheckpoint.directoryName, keepLast: 1,
                                   metadata: [KeyValue(BestCheckpoint.monitorKey, monitor), KeyValue(BestCheckpoint.valueKey, "\(value)")])
        if trainer.isRankZero { Log.main(String(format: "best %@ so far: %.4f (step %d)", monitor, value, step)) }
    }
}

/// Logs the learning rate (`lr`) with every log record.
public final class LearningRateMonitor: Callback {
    public init() {}
    public func onTrainStepEnd(_ trainer: Trainer, _ report: StepReport) throws {
        trainer.log("lr", Double(report.learningRate))
    }
}

/// Logs the global gradient norm before clipping (`grad_norm`, the latest step's) with every log record.
public final class GradientNormMonitor: Callback {
    public init() {}
    public var wantsGradientNorm: Bool { true }
    public func onTrainStepEnd(_ trainer: Trainer, _ report: StepReport) throws {
        if let n = report.gradientNorm { trainer.log("grad_norm", Double(n)) }
    }
}

/// Skips the update of a step whose loss or averaged gradient is not finite — every rank
/// sees the same agreed values, so every rank skips the same steps — and stops the run
/// after `maxConsecutive` skipped steps in a row. Without it a non-finite step stops the run.
public final class NaNGuard: Callback {
    public let maxConsecutive: Int
    public private(set) var skipped = 0
    private var lastSkipped = -1, run = 0

    public init(maxConsecutive: Int = 10) { self.maxConsecutive = max(maxConsecutive, 1) }

    public func onNonFinite(_ trainer: Trainer, _ problem: NonFiniteProblem) -> NonFiniteAction? {
        run = problem.step == lastSkipped + 1 ? run + 1 : 1
        guard run <= maxConsecutive else { return .stop }
        lastSkipped = problem.step
        skipped += 1
        if trainer.isRankZero { Log.warning("\(problem); skipping this update (NaN guard, \(run) in a row, at most \(maxConsecutive))") }
        return .skip
    }
}

/// Finishes the run after `step` steps (checkpoint and validation as at the end): a search
/// trains a trial in stages, resuming the checkpoint for the next stage (`cohort tune`).
public final class HaltAt: Callback {
    public let step: Int
    public init(step: Int) { self.step = step }
    public func onTrainStepEnd(_ trainer: Trainer, _ report: StepReport) throws {
        if report.step == step && report.step < report.totalSteps { trainer.requestFinish("halted at step \(step)", onEveryRank: true) }
    }
}

/// Rank 0's progress lines, every `logEvery` steps and at the last:
/// `step 100/600 epoch 1 loss 0.4213 lr 1.00e-03 5210 samples/s`.
public final class ConsoleProgress: Callback {
    private var last: StepReport?
    let stepLines: Bool
    /// - Parameter stepLines: false leaves the step lines to a live progress bar (`LiveProgress`); validation lines stay.
    public init(stepLines: Bool = true) { self.stepLines = stepLines }
    public func onTrainStepEnd(_ trainer: Trainer, _ report: StepReport) throws { last = report }
    public func onLog(_ trainer: Trainer, step: Int, phase: LogPhase, values: [(name: String, value: Double)]) throws {
        guard stepLines, phase == .train, let r = last, r.step == step, let rate = values.first(where: { $0.name == "samples_per_sec" })?.value else { return }
        Log.main(String(format: "step %d/%d epoch %d loss %.4f lr %.2e %.0f samples/s", r.step, r.totalSteps, r.epoch, r.loss, r.learningRate, rate)
                 + (r.skipped ? " (update skipped)" : ""))
    }
    public func onValidationEnd(_ trainer: Trainer, step: Int, metrics: [Metric]) throws {
        guard step < trainer.totalSteps, !metrics.isEmpty else { return }   // the final one is in the run's summary line
        Log.main("validation at step \(step): " + metrics.map(\.text).joined(separator: ", "))
    }
}

/// The value of metric `name`, or an error listing the metrics validation produced.
func monitored(_ name: String, in metrics: [Metric], by who: String) throws -> Double {
    guard let m = metrics.first(where: { $0.name == name }) else {
        throw CohortError.invalidArgument("\(who): validation produced no metric '\(name)' (it produced: \(metrics.map(\.name).joined(separator: ", ")))")
    }
    return m.value
}
