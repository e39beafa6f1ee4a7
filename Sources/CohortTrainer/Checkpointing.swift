// Checkpointing for the Trainer: resume (auto or an explicit path), periodic
// saves (synchronous or in the background), retention, and the check that a
// resumed run has the same configuration as the one that saved.
import CohortCheckpoint
import CohortCore
import CohortData
import CohortNN
import CohortOptim
import CohortTensor
import Foundation

/// Where a resumed run continues from.
public struct ResumePoint: Sendable {
    public var step: Int
    public var samplesConsumed: Int
    /// The saved loss history (recent steps exactly, older ones as block means).
    public var history: LossHistory
    public var path: String
    /// The run's extensions (`extended.N` metadata: the checkpoint's, then this resume's, if it
    /// changed settings under `TrainerOptions.extend`), carried into every later checkpoint.
    public var extensions: [KeyValue] = []
    /// The schedule's record (a stateful schedule's state among its parameters).
    public var schedule = ScheduleRecord()
    /// The recent steps' losses, oldest first (the last is `step`'s).
    public var losses: [Float] { history.recentLosses }
}

extension TrainingModule {
    /// No data identity: checkpoints record none and resumes check none.
    public var dataIdentity: DataIdentity? { nil }
}

/// The checkpoint a resume names cannot be used (missing, damaged, or saved by a different
/// configuration): a user error, never retried by a supervisor.
public struct ResumeError: Error, CustomStringConvertible {
    public let underlying: any Error
    public init(_ error: any Error) { underlying = (error as? ResumeError)?.underlying ?? error }
    public var description: String { "\(underlying)" }
}

/// The checkpoint side of one training run.
public final class TrainCheckpointing {
    public let directory: String?
    public let every: Int
    public let keepLast: Int, keepEvery: Int
    let async: AsyncCheckpointer?
    /// Flags that decide the result; a resume must match them exactly.
    public let config: [KeyValue]
    /// Config keys a resume may change (an extension: `TrainerOptions.extend`); empty: none.
    public var extendable: Set<String> = []
    /// Config key (or `data`: the data identity) → the flag that sets it, named when a resume is refused (`TrainerOptions.configFlags`).
    public var flags: [String: String] = [:]

    /// Called with each committed checkpoint's path (on the writer thread for async saves).
    let onSaved: @Sendable (String) -> Void
    /// Step of the newest save started (0: none yet).
    public private(set) var lastSavedStep = 0
    /// Set by fault injection: the next save is killed in its data phase.
    public var crashDuringNextSave = false

    public init(directory: String?, every: Int, keepLast: Int, keepEvery: Int, async: Bool, config: [KeyValue],
         onSaved: @escaping @Sendable (String) -> Void = { _ in }) {
        self.directory = directory
        self.every = every
        self.keepLast = keepLast
        self.keepEvery = keepEvery
        self.async = async && directory != nil ? AsyncCheckpointer() : nil
        self.async?.onCommit = { Log.main("saved \($0)"); onSaved($0) }
        self.onSaved = onSaved
        self.config = config
    }

    /// Loads the checkpoint `resume` names (`auto`: the newest good one in the directory,
    /// if any) into the arena and optimizer, after checking it belongs to this run.
    /// Every error is a `ResumeError`: the checkpoint the user pointed at cannot be used.
    /// - Parameters:
    ///   - recentLosses: steps of loss history to keep at full resolution (`LossHistory.recentCapacity`).
    ///   - movesDamaged: whether damaged newer checkpoints are renamed aside (only the process
    ///     holding the directory's lock, rank 0, writes in it).
    ///   - data: this run's data; a checkpoint trained on other data is refused (nil: not checked).
    ///   - beforeRestore: called with the checkpoint's step before it is checked against the optimizer
    ///     and restored (the Trainer unfreezes there when the checkpoint is past the unfreeze step).
    public func resume(_ resume: String?, arena: ParameterArena, optimizer: any Optimizer, model: any Module,
                       recentLosses: Int = LossHistory.defaultRecentSteps, movesDamaged: Bool = true,
                       data: () throws -> DataIdentity? = { nil }, beforeRestore: (Int) throws -> Void = { _ in }) throws -> ResumePoint? {
        do {
            return try load(resume, arena: arena, optimizer: optimizer, model: model, recentLosses: recentLosses,
                            movesDamaged: movesDamaged, data: data, beforeRestore: beforeRestore)
        } catch {
            throw ResumeError(error)
        }
    }

    private func load(_ resume: String?, arena: ParameterArena, optimizer: any Optimizer, model: any Module,
                      recentLosses: Int, movesDamaged: Bool, data: () throws -> DataIdentity?,
                      beforeRestore: (Int) throws -> Void) throws -> ResumePoint? {
        guard let resume else { return nil }
        let checkpoint: Checkpoint
        if resume == "auto" {
            guard let directory else { throw CohortError.invalidParameter(name: "resume", "auto needs `checkpointDirectory`") }
            let store = CheckpointStore(directory: directory)
            var damaged: [String] = []
            let found = store.latestValid(skipped: { path, error in
                Log.warning("skipping \(path): \(error); falling back to the previous checkpoint")
                damaged.append(path)
            })
            // Newer damaged checkpoints would outrank this run's next saves in retention
            // and in later resumes: move them aside (kept for inspection).
            for path in damaged where movesDamaged {
                if let moved = store.quarantine(path) { Log.warning("moved the damaged checkpoint to \(moved)") }
            }
            guard let c = found else {
                Log.main(store.list().isEmpty ? "no checkpoint in \(directory); starting from scratch"
                         : "no usable checkpoint in \(directory) (all are damaged, see above); starting from scratch")
                return nil
            }
            checkpoint = c
        } else {
            checkpoint = try Checkpoint(path: resume)
            try checkpoint.verify()
        }
        try checkData(checkpoint, try data())
        let changes = try checkConfig(checkpoint)
        try beforeRestore(checkpoint.manifest.step)
        try TrainingCheckpoint.restore(checkpoint, arena: arena, optimizer: optimizer, groupLearningRatesMayChange: !extendable.isEmpty)
        let m = checkpoint.manifest
        let moduleStates = m.rng.filter { $0.name.hasPrefix("module/") }.map { (name: String($0.name.dropFirst(7)), state: $0.words) }
        do { try model.restoreRandomStates(moduleStates) } catch {
            throw CheckpointError.mismatch(path: checkpoint.path, "\(error)")
        }
        let history = LossHistory(restoring: m.metrics, step: m.step, recentCapacity: recentLosses)
        Log.main("resumed from \(checkpoint.path) (step \(m.step), epoch \(m.epoch + 1), \(m.data.samplesConsumed) samples consumed)")
        var point = ResumePoint(step: m.step, samplesConsumed: m.data.samplesConsumed, history: history, path: checkpoint.path)
        point.extensions = m.metadata.filter { $0.key.hasPrefix("extended.") }
        point.schedule = m.schedule
        if !changes.isEmpty {
            let change = "at step \(m.step) from \(checkpoint.path): " + changes.joined(separator: ", ")
            Log.main("extending the run " + change)
            point.extensions.append(KeyValue("extended.\(point.extensions.count + 1)", change))
        }
        return point
    }

    /// A resume must train on the data the checkpoint was trained on (same fingerprint); a checkpoint
    /// saved before data fingerprints resumes with a warning. Nil `data`: not checked.
    public func checkData(_ c: Checkpoint, _ data: DataIdentity?) throws {
        guard let data else { return }
        let saved = c.manifest.data
        guard !saved.dataSHA256.isEmpty else {
            Log.warning("checkpoint \(c.path) records no data fingerprint (saved by an older Cohort): cannot check that it was trained on "
                        + "this run's data, \(data)\(saved.dataset.isEmpty ? "" : " (it names its data \(saved.dataset))")")
            return
        }
        guard saved.dataSHA256 == data.sha256 else {
            throw CheckpointError.mismatch(path: c.path, "it was trained on \(DataIdentity(name: saved.dataName, sha256: saved.dataSHA256)) "
                                           + "but this run's data is \(data)" + (flags["data"].map { " (set by \($0))" } ?? ""))
        }
    }

    /// Whether two `dataset` settings (`mnist-train (60000 samples)`) differ only in the name: Cohort
    /// once called every MNIST-format set `mnist`, so a checkpoint without a data fingerprint is not
    /// refused for that (`checkData` warns instead).
    static func sameSampleCount(_ a: String, _ b: String) -> Bool {
        func count(_ s: String) -> Substring? { s.lastIndex(of: "(").map { s[$0...] } }
        return count(a) != nil && count(a) == count(b)
    }

    /// A resume must use the same settings as the run that saved, or the result would silently differ;
    /// only the `extendable` keys may change. Returns those changes (`lr 0.001 → 0.0005`).
    @discardableResult
    public func checkConfig(_ c: Checkpoint) throws -> [String] {
        let saved = c.manifest.trainingConfig
        for old in saved where TrainCheckpointing.absentMeansOff.contains(old.key) && !config.contains(where: { $0.key == old.key }) {
            throw CheckpointError.mismatch(path: c.path, "it was saved with \(old.key) \(old.value), this run has none")
        }
        var changes: [String] = []
        for kv in config {
            guard let old = saved.first(where: { $0.key == kv.key }) ?? TrainCheckpointing.absentMeans[kv.key].map({ KeyValue(kv.key, $0) }) else {
                throw CheckpointError.mismatch(path: c.path, "it has no value for \(kv.key) (this run: \(kv.value))")
            }
            if kv.key == "dataset" && c.manifest.data.dataSHA256.isEmpty && TrainCheckpointing.sameSampleCount(old.value, kv.value) { continue }
            guard old.value == kv.value else {
                if extendable.contains(kv.key) { changes.append("\(kv.key) \(old.value) → \(kv.value)"); continue }
                let hint = extendable.isEmpty && TrainerOptions.extendableSettings.contains(kv.key) ? " (an extended run may change it)" : ""
                let flag = flags[kv.key].map { " (set by \($0))" } ?? ""
                throw CheckpointError.mismatch(path: c.path, "it was saved with \(kv.key) \(old.value), this run has \(kv.value)\(flag)\(hint)")
            }
        }
        return changes
    }

    /// Takes `directory`'s lock for this process (`CheckpointLock`), saying when it takes over a
    /// stale one or waits for an earlier process of the same `job`.
    /// - Throws: `CheckpointError.inUse` naming the live holder, as `CheckpointLock.acquire` does.
    public static func lock(_ directory: String, job: String?) throws -> CheckpointLock {
        let lock = try CheckpointLock.acquire(directory: directory, job: job ?? "", waitForSameJob: job == nil ? 0 : CheckpointLock.sameJobWait) { holder in
            Log.main("checkpoint directory \(directory) is still held by \(holder), an earlier process of this job; "
                     + "waiting up to \(Int(CheckpointLock.sameJobWait)) s for it to exit")
        }
        if let gone = lock.previousHolder {
            Log.main("checkpoint directory \(directory): previous holder PID \(gone.pid) on \(gone.host) (started \(gone.started)) is gone; taking over")
        }
        return lock
    }
    /// Settings a run records only when they are on (older checkpoints lack them), so a checkpoint
    /// holding one cannot be resumed by a run without it (`val_split`: the data the run trains on).
    public static let absentMeansOff: Set<String> = ["val_split", "freeze", "unfreeze_at"]
    /// Settings older checkpoints lack, with the value they meant (`tokenizer`: checkpoints before
    /// `--tokenizer` used the byte vocabulary), so those checkpoints still resume.
    public static let absentMeans: [String: String] = ["tokenizer": "bytes"]

    /// Whether a checkpoint is due after `step` steps (1-based count of completed steps).
    public func due(afterStep step: Int, total: Int) -> Bool {
        directory != nil && every > 0 && (step % every == 0 || step == total)
    }

    /// The manifest of a save of the state after `step` completed steps (its tensors are filled in by the writer).
    public func manifest(step: Int, epoch: Int, cursor: DataCursorRecord, batchSize: Int, model: ModelRecord,
                         optimizer: any Optimizer, schedule: ScheduleRecord, history: LossHistory,
                         rng: [RNGRecord], metadata: [KeyValue], data: DataIdentity? = nil) -> Manifest {
        var m = Manifest()
        m.cohortVersion = cohortVersion
        m.createdUnixMs = Int64(Date().timeIntervalSince1970 * 1000)
        m.step = step
        m.epoch = epoch
        m.data = cursor
        m.globalBatchSize = batchSize
        m.worldSize = RunInfo.current.worldSize
        m.model = model
        m.rng = rng
        m.optimizer = TrainingCheckpoint.optimizerRecord(optimizer)
        m.schedule = schedule
        m.metrics = history.metricPoints()
        if let data { m.data.dataName = data.name; m.data.dataSHA256 = data.sha256 }
        m.trainingConfig = config
        m.metadata = metadata
        return m
    }

    /// Rank 0: saves `m` (from `manifest`) with the parameters and optimizer state (`optimizerState`:
    /// the whole state gathered from a ZeRO-sharded optimizer), in the background when asynchronous.
    public func save(_ m: Manifest, arena: ParameterArena, optimizer: any Optimizer,
                     optimizerState: [(name: String, storage: Storage)]? = nil) throws {
        guard let directory else { return }
        markSaved(m.step)
        if crashDuringNextSave {
            try async?.finish()   // so the armed save is this one, not one still in flight
            CheckpointWriter.crashDuringNextSave()
            crashDuringNextSave = false
        }
        if let async {
            try async.save(m, arena: arena, optimizer: optimizer, state: optimizerState, directory: directory, retention: (keepLast, keepEvery))
        } else {
            let path = try CheckpointWriter.write(m, tensors: TrainingCheckpoint.payloads(arena: arena, optimizer: optimizer, state: optimizerState), directory: directory)
            committed(path)
        }
    }

    /// After a synchronous commit: retention, the log line and `onSaved`.
    func committed(_ path: String) {
        guard let directory else { return }
        CheckpointStore(directory: directory).applyRetention(keepLast: keepLast, keepEvery: keepEvery)
        Log.main("saved \(path)")
        onSaved(path)
    }

    /// Records that the state after `step` is saved (rank 0 by saving it; the other ranks, which
    /// took part in the save's collectives, by calling this), so every rank agrees on the next save.
    public func markSaved(_ step: Int) { lastSavedStep = step }

    /// Call before the optimizer changes parameters (an async save may still be copying them).
    public func beforeParameterUpdate() throws { try async?.beforeParameterUpdate() }

    /// Waits for an in-flight save to commit.
    public func finish() throws { try async?.finish() }
}

