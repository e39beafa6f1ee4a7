// The settings of one `Trainer.fit`: batch and length, data-parallel knobs,
// validation and logging cadence, and checkpoints.
import CohortCheckpoint
import CohortCore
import CohortDistributed

/// How a `Trainer` runs. Defaults suit a quick single-process run.
public struct TrainerOptions: Sendable {
    /// Global mini-batch (all ranks together); each rank takes `globalBatch / worldSize`.
    public var globalBatch = 64
    /// Total optimizer steps; nil: `epochs` full passes (dropping the last partial batch).
    public var steps: Int?
    public var epochs = 1
    /// Micro-batches per step, communicating once (gradient accumulation).
    public var accumulate = 1
    /// Deterministic mode: this many virtual shards per global batch (any K ≥ 1), combined in a
    /// fixed tree, so updates are bitwise identical for any world size dividing it. Nil: off.
    public var virtualShards: Int?
    /// Gradient bucket size for the overlapped allreduce, in MB.
    public var bucketMegabytes = 25.0
    /// How gradients travel between ranks: float32, or bfloat16/binary16 words (half the bytes).
    public var gradientWire = GradientWire.fp32
    /// With a 16-bit wire: carry each element's rounding error into the next step.
    public var gradientErrorFeedback = false
    /// ZeRO stage: 0 off, 1 optimizer state sharded across ranks, 2 gradients too (docs/zero.md).
    public var zero = 0
    /// SyncBatchNorm: the model's BatchNorm layers normalise with the statistics of the global
    /// batch (every rank's part), not of each rank's. With `virtualShards`, of every virtual shard,
    /// combined in shard order (each rank runs its shards in lock-step). Not with manual optimization.
    public var syncBatchNorm = false
    /// Clip the global gradient norm to this value (0: off).
    public var clipGradNorm: Float = 0
    /// Seed of the data order.
    public var seed: UInt64 = 0
    /// Steps of batches prepared ahead on a background thread (0: prepare in the step).
    public var prefetch = 0
    /// Log record (and progress line) every N steps, and at the last step.
    public var logEvery = 100
    /// Validate every N steps (nil: only after the last step).
    public var validateEvery: Int?
    /// Seconds a collective wait may last (with a supervision that has a watchdog).
    public var collectiveTimeout = 600.0
    /// Keep every rank's per-step phase times (`FitResult.stepTimes`).
    public var recordStepTimes = false
    /// Parameters to freeze, as shell-style globs over dotted names (`globMatches`): they get
    /// `requiresGrad = false` (no gradient), no bucket (no communication), no optimizer group
    /// (no update, no weight decay). Empty: none.
    public var freeze: [String] = []
    /// The 1-based step from which the frozen parameters train too (gradual unfreezing; their
    /// optimizer state starts at zero then). Nil: they stay frozen.
    public var unfreezeAt: Int?

    /// Directory of `step-NNNNNNNN` checkpoints (nil: none are saved).
    public var checkpointDirectory: String?
    /// Save every N steps and at the last step.
    public var checkpointEvery = 500
    /// Retention: the newest K (0: all), plus every multiple of N (0: off).
    public var keepLast = 3, keepEvery = 0
    /// Write checkpoints in the background while training continues (rank-0 saves; sharded saves
    /// are written in the step that makes them).
    public var asyncCheckpoint = false
    /// Who writes a periodic checkpoint with several ranks (docs/checkpoint-format.md, "Sharded saves").
    public var checkpointSharding = CheckpointSharding.auto
    /// The job this process belongs to across restarts (`cohort launch`'s run id). Rank 0 holds the
    /// checkpoint directory's lock (`CheckpointLock`) for the whole fit; finding it held by an earlier
    /// process of the same job (a restart's old rank 0, still exiting), it waits up to
    /// `CheckpointLock.sameJobWait` seconds instead of failing at once. Nil: never wait.
    public var jobID: String?
    /// `auto` (newest good checkpoint in the directory, if any) or a checkpoint path.
    public var resume: String?
    /// Settings that decide the result; a resumed run must match them exactly.
    public var config: [KeyValue] = []
    /// The flag that sets a `config` key (or `data`, the training data's identity), where its name is
    /// not obvious from the key: a refused resume names it (`tokenizer` → `--tokenizer`).
    public var configFlags: [String: String] = [:]
    /// Continue the resumed run with other `extendableSettings` (more steps, a new learning rate):
    /// they may differ from the checkpoint's `config`, every other setting must still match. Each
    /// change is logged and recorded in checkpoint metadata (`extended.N`), kept by later saves.
    public var extend = false
    /// The `config` keys an extension may change: the run's length and learning rate.
    public static let extendableSettings: Set<String> = ["total_steps", "lr"]
    /// User metadata stored in checkpoints.
    public var metadata: [KeyValue] = []
    /// The model's description in checkpoints (default: the module's type name and parameter count).
    public var modelRecord: ModelRecord?
    /// The schedule's description in checkpoints (the step is filled in).
    public var scheduleRecord = ScheduleRecord()
    /// Extra random-generator states to store (e.g. the one that initialised the network).
    public var randomStates: [RNGRecord] = []
    /// Record a Chrome trace-event timeline of the fit, one file per rank (nil: off). docs/trace.md.
    public var trace: TraceSettings?

    public init() {}
}

extension TrainerOptions {
    /// The per-rank batch, after checking the batch divides among `worldSize` ranks and micro-batches.
    /// - Throws: `CohortError.invalidParameter` naming the parameter at fault.
    func localBatch(worldSize: Int) throws -> Int {
        guard globalBatch > 0, globalBatch % worldSize == 0 else {
            let valid = (1...max(globalBatch, 1)).filter { globalBatch % $0 == 0 }.map(String.init).joined(separator: ", ")
            throw CohortError.invalidParameter(name: "globalBatch", "\(globalBatch) does not divide among \(worldSize) ranks; valid world sizes: \(valid)")
        }
        let local = globalBatch / worldSize
        guard accumulate >= 1, local % accumulate == 0 else {
            throw CohortError.invalidParameter(name: "accumulate", "\(accumulate) must be ≥ 1 and divide the per-rank batch \(local)")
        }
        guard logEvery > 0 else { throw CohortError.invalidParameter(name: "logEvery", "must be positive, got \(logEvery)") }
        if let v = validateEvery, v <= 0 { throw CohortError.invalidParameter(name: "validateEvery", "must be positive, got \(v)") }
        return local
    }
}

/// Who writes a periodic checkpoint when several ranks train.
public enum CheckpointSharding: String, Sendable, CaseIterable {
    /// Rank 0 writes everything (under ZeRO it first receives every rank's optimizer shard).
    case off
    /// Every rank writes its part of the parameters and optimizer state in parallel, rank 0 the
    /// one manifest; the directory must be one every rank sees (checked at the start).
    case on
    /// `on` under ZeRO when every rank sees the directory, else `off`.
    case auto
}
