// Callbacks that record a run for people: metrics.jsonl and a TensorBoard event
// file in a run directory (rank 0), and a live progress bar on a terminal.
import CohortCore
import CohortRunLog
import Foundation

/// Writes every log record to `RUN_DIR/metrics.jsonl` and, with `tensorBoard`, to a
/// TensorBoard event file in the same directory (tags `train/loss`, `train/lr`, …, `val/<metric>`, `test/<metric>`).
/// Rank 0 only. A resumed run cuts the log back to its checkpoint's step and continues it.
public final class RunLogger: Callback {
    public let directory: String
    public let tensorBoard: Bool
    private var metrics: MetricsLog?
    private var events: TensorBoardWriter?

    public init(directory: String, tensorBoard: Bool = true) {
        self.directory = directory
        self.tensorBoard = tensorBoard
    }

    public func onFitStart(_ trainer: Trainer) throws {
        guard trainer.isRankZero else { return }
        metrics = try MetricsLog(runDirectory: directory, resumingAt: trainer.step)
        if tensorBoard { events = try TensorBoardWriter(runDirectory: directory) }
    }

    public func onLog(_ trainer: Trainer, step: Int, phase: LogPhase, values: [(name: String, value: Double)]) throws {
        guard let metrics else { return }
        let wallTime = Date().timeIntervalSince1970
        try metrics.append(MetricRecord(step: step, wallTime: wallTime, metrics: values.map { .init(name: $0.name, value: $0.value) }))
        try events?.add(step: step, wallTime: wallTime, scalars: values.map { ScalarValue(tag: RunLogger.tag($0.name, phase), value: Float($0.value)) })
    }

    /// TensorBoard tag of a logged name: `train_loss` → `train/loss`, `lr` → `train/lr`,
    /// validation `val_loss` → `val/loss`, test `test_accuracy` → `test/accuracy`, and the best
    /// checkpoint's `best_test_accuracy` → `best/test_accuracy`, `best_step` → `best/step`.
    static func tag(_ name: String, _ phase: LogPhase) -> String {
        switch phase {
        case .train: return "train/" + (name.hasPrefix("train_") ? String(name.dropFirst(6)) : name)
        case .validation: return "val/" + (name.hasPrefix("val_") ? String(name.dropFirst(4)) : name)
        case .test:
            if name.hasPrefix("best_") { return "best/" + name.dropFirst(5) }
            return "test/" + (name.hasPrefix("test_") ? String(name.dropFirst(5)) : name)
        }
    }
}

/// A progress bar on rank 0 (`ProgressBar`): live on a terminal, with every log line printed
/// above it, or plain periodic lines. Pair it with `ConsoleProgress(stepLines: false)`.
public final class LiveProgress: Callback {
    private let mode: ProgressBar.Mode
    private let lock = NSLock()
    private var bar: ProgressBar?

    public init(mode: ProgressBar.Mode) { self.mode = mode }

    public func onFitStart(_ trainer: Trainer) throws {
        guard trainer.isRankZero else { return }
        let bar = ProgressBar(total: trainer.totalSteps, startStep: trainer.step, samplesPerStep: trainer.options.globalBatch, mode: mode)
        self.bar = bar
        if case .live = mode {
            let lock = self.lock
            Log.redirect { line in lock.lock(); bar.log(line); lock.unlock() }
        }
    }

    public func onTrainStepEnd(_ trainer: Trainer, _ report: StepReport) throws {
        guard let bar else { return }
        lock.lock(); defer { lock.unlock() }
        bar.update(step: report.step, loss: Double(report.loss))
    }

    public func onFitEnd(_ trainer: Trainer, _ result: FitResult) throws { close() }

    /// Ends the bar's line and gives log lines back to standard error.
    public func close() {
        guard let bar else { return }
        Log.redirect(nil)
        lock.lock(); defer { lock.unlock() }
        bar.finish()
        self.bar = nil
    }

    deinit { close() }
}
