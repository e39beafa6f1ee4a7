// The Trainer behind `cohort train` and any `TrainingModule`: its settings,
// training group, supervision and callbacks, and what callbacks may ask of it
// during a fit (finish early, log a scalar, save a checkpoint). `fit` runs the
// training loop, `FitLoop`: seeded data order with a resumable cursor, optional
// prefetch, data-parallel gradient averaging (bucketed and overlapped with
// backward, or deterministic virtual shards), gradient accumulation, clipping,
// the non-finite guard, checkpoints, validation and callbacks.
import CohortCheckpoint
import CohortCollectives
import CohortCore
import CohortData
import CohortDistributed
import CohortNN
import CohortOptim
import CohortTensor
import Foundation

/// Fits `TrainingModule`s, in the spirit of PyTorch Lightning's `Trainer`.
///
///     let trainer = try Trainer(options, callbacks: [ConsoleProgress(), EarlyStopping(monitor: "val_loss")])
///     let result = try trainer.fit(MyModel())
public final class Trainer {
    public let options: TrainerOptions
    /// The training group (MPI's world under `mpirun`, else a single process).
    public let communicator: any Communicator
    public let supervision: any TrainingSupervision
    public var callbacks: [any Callback]
    /// Called on rank 0 with each step's global sample ids (1-based step), before the step trains.
    public var onBatchIndices: ((Int, [Int]) throws -> Void)?

    /// Steps completed so far (during `fit`), the run's total, and steps per epoch.
    public internal(set) var step = 0, totalSteps = 0, stepsPerEpoch = 0
    /// The parameters and optimizer of the current `fit`.
    public internal(set) var parameters: ParameterArena?
    public internal(set) var optimizer: (any Optimizer)?

    public var rank: Int { communicator.rank }
    public var worldSize: Int { communicator.size }
    public var isRankZero: Bool { communicator.rank == 0 }

    // Set by callbacks during a fit (through the methods below), read by the `FitLoop`.
    var finishReason: String?
    var finishNow = false
    var pending: [(name: String, value: Double)] = []
    var saveInto: ((String, Int, [KeyValue]) throws -> Void)?

    /// - Parameters:
    ///   - communicator: the group to train in; nil: a single process. Under a launcher that
    ///     started more than one rank (mpirun, srun, `cohort launch`), pass CohortRuntime's
    ///     communicator (`CohortRuntime.main`), which starts MPI and the rank's supervision.
    ///   - supervision: job-supervisor hooks; nil: `LocalSupervision`.
    public init(_ options: TrainerOptions = TrainerOptions(), callbacks: [any Callback] = [ConsoleProgress()],
                communicator: (any Communicator)? = nil, supervision: (any TrainingSupervision)? = nil) throws {
        self.options = options
        self.callbacks = callbacks
        self.supervision = supervision ?? LocalSupervision()
        if let communicator { self.communicator = communicator } else if LauncherDetection.current.needsMPI {
            let launcher = LauncherDetection.current
            throw CohortError.invalidArgument("Trainer(communicator: nil) trains in a single process, but \(launcher.kind.map { "\($0)" } ?? "a launcher") "
                + "started \(launcher.size.map(String.init) ?? "several") ranks: start them with CohortRuntime (`CohortRuntime.main { runtime in … }`, "
                + "or pass `communicator:` a CohortRuntime's communicator)")
        } else {
            self.communicator = SingleProcessCommunicator()
        }
    }

    /// Asks the run to finish (the final checkpoint and validation still run); the first reason
    /// given is kept. The request is agreed across ranks: it takes effect after the next step, or
    /// at once during a validation. With `onEveryRank`, the caller promises every rank makes the
    /// same request at the same step (a fixed step, values all ranks share): it takes effect after this step.
    public func requestFinish(_ reason: String, onEveryRank: Bool = false) {
        if finishReason == nil { finishReason = reason }
        if onEveryRank { finishNow = true }
    }

    /// Adds a scalar to the next log record (the latest value per name wins).
    public func log(_ name: String, _ value: Double) {
        if let i = pending.firstIndex(where: { $0.name == name }) { pending[i].value = value } else { pending.append((name, value)) }
    }

    /// Saves the current state as a checkpoint in `<checkpoint dir>/<subdirectory>`, keeping the
    /// newest `keepLast` there, with `metadata` after the run's. Collective (BatchNorm statistics
    /// are averaged first); rank 0 writes.
    public func saveCheckpoint(subdirectory: String, keepLast: Int, metadata: [KeyValue] = []) throws {
        guard let saveInto else { throw CohortError.invalidArgument("Trainer.saveCheckpoint: only during fit, with a checkpoint directory") }
        try saveInto(subdirectory, keepLast, metadata)
    }

    /// Trains `module` for `options.steps` (or `options.epochs`), resuming first when
    /// `options.resume` says so, then validates. Collective: every rank calls it.
    /// The loop itself, phase by phase, is `FitLoop.run`.
    @discardableResult
    public func fit<M: TrainingModule>(_ module: M) throws -> FitResult {
        _ = try options.localBatch(worldSize: worldSize)   // the batch divides among the ranks and micro-batches
        // One writer per checkpoint directory, held for the whole fit: rank 0 writes every
        // checkpoint (and moves damaged ones aside); the other ranks only read.
        let directoryLock = try isRankZero ? options.checkpointDirectory.map { try TrainCheckpointing.lock($0, job: options.jobID) } : nil
        defer { directoryLock?.release() }
        let loop = try FitLoop(self, module)
        defer { loop.close() }   // on an error, a background save ends before the lock is released
        return try loop.run()
    }

    /// Whether any rank's callbacks asked to finish (collective, waiting under `collectiveGuard`).
    func agreeFinish(_ collectiveGuard: CollectiveGuard) throws -> Bool {
        guard communicator.size > 1 else { return finishReason != nil }
        let flags = try collectiveGuard("allreduce of the finish request") {
            try communicator.allreduce([Int64(finishReason != nil ? 1 : 0)], op: .sum)
        }
        return flags[0] > 0
    }
}
