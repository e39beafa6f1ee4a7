// What `Trainer.fit` returns: how the run ended and its measurements.
import CohortCore

/// The outcome of `Trainer.fit`.
public struct FitResult: Sendable {
    /// Steps completed in total (including those before a resume), and the step this process started from.
    public var steps: Int, startStep: Int
    /// The run's planned total.
    public var totalSteps: Int
    /// Agreed loss of each recent step, oldest first, the last being step `steps`: every step
    /// from step 1 unless the run is longer than its loss history's full-resolution window
    /// (`LossHistory.recentCapacity`: at least 10,000 steps and an epoch). Restored on a resume.
    public var losses: [Float]
    /// Mean loss over the last epoch's worth of steps (non-finite losses left out).
    public var trainLoss: Float
    /// The final metrics (empty after a preemption): `validationMetrics` then `testMetrics`.
    public var metrics: [Metric]
    /// The final validation's metrics (`val_*`), what selection may use.
    public var validationMetrics: [Metric] = []
    /// The test split's metrics for the final weights (`test_*`), evaluated once, after training.
    public var testMetrics: [Metric] = []
    /// With `BestCheckpoint`: the best checkpoint and its test metrics.
    public var best: BestEvaluation?
    /// This process's seconds: training steps in total, and of them waiting for gradients and for data.
    public var trainSeconds: Double, commSeconds: Double, dataSeconds: Double
    /// Global samples per second over the steps this process ran.
    public var samplesPerSecond: Double
    /// Every rank's per-step phase times `[rank][step][phase]` (`StepTimes.phases`), when recorded.
    public var stepTimes: [[[Double]]]?
    /// How gradients travelled: `none`, `allreduce`, `shared memory` or `virtual shards`.
    public var transport: String
    /// Set when a supervisor stopped the run (signal, coordinator): why. A checkpoint of `steps` was saved.
    public var preemption: String?
    /// Set when a callback finished the run before `totalSteps` (e.g. early stopping): why.
    public var finishedEarly: String?
    /// Updates skipped for non-finite values (see `NaNGuard`).
    public var skippedUpdates: Int
    /// SHA-256 of the final parameters (identical on every rank).
    public var weightsSHA256: String
    /// Every rank's peak resident memory (MiB, the kernel's VmHWM) at the end of the fit; empty after a preemption.
    public var peakResidentMiB: [Double] = []
    /// The ZeRO stage the fit ran (0: none) and the optimizer-state elements each rank kept per state buffer.
    public var zeroStage = 0, optimizerStateElements = 0
}

/// The checkpoint `BestCheckpoint` kept, and the test split's metrics for it.
public struct BestEvaluation: Sendable {
    /// The step it was saved after.
    public var step: Int
    /// The monitored validation metric and its value there.
    public var monitor: String, value: Double
    /// `module.test` on the best weights, named `best_<name>` (e.g. `best_test_accuracy`).
    public var testMetrics: [Metric]
}
