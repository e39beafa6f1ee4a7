// The log phase of the training loop: each step's report to the callbacks, and
// every `logEvery` steps (and at the last) a train record: the window's mean
// loss, its throughput and the scalars logged through `Trainer.log`.
import CohortCore
import Foundation

extension FitLoop {
    /// Log phase: `report` to every callback, then the train record when one is due.
    func log(_ report: StepReport) throws {
        windowSamples += report.samples
        if report.loss.isFinite { windowLosses.append(report.loss) }
        for c in trainer.callbacks { try c.onTrainStepEnd(trainer, report) }
        guard report.step % options.logEvery == 0 || report.step == totalSteps else { return }
        let t = monotonicSeconds()
        let meanLoss = windowLosses.isEmpty ? Double.nan : Double(windowLosses.reduce(0, +)) / Double(windowLosses.count)
        let record = [("train_loss", meanLoss), ("samples_per_sec", Double(windowSamples) / max(t - windowStart, 1e-9))] + trainer.pending
        for c in trainer.callbacks { try c.onLog(trainer, step: report.step, phase: .train, values: record) }
        trainer.pending = []
        windowStart = t
        windowSamples = 0
        windowLosses = []
    }
}
