// Background checkpoint writing. `save` hands the step's state to a writer
// thread and returns; the writer first copies the parameters and optimizer
// buffers (while the next step's forward and backward run, which only read
// them), then writes and commits. The training thread calls
// `beforeParameterUpdate()` before its next optimizer step, which waits only if
// that copy has not finished. At most one save is in flight; the next save, or
// `finish()`, waits for it and rethrows a writer error on the training thread.
import CohortNN
import CohortOptim
import CohortTensor
import Dispatch
import Foundation

/// Writes checkpoints on a background thread, one at a time.
public final class AsyncCheckpointer: @unchecked Sendable {
    private let queue = DispatchQueue(label: "cohort.checkpoint.writer")
    private let lock = NSLock()
    private var inFlight: DispatchGroup?
    private var snapshotTaken: DispatchSemaphore?
    private var failure: Error?
    /// Called on the writer thread after each commit with the checkpoint path.
    public var onCommit: (@Sendable (String) -> Void)?

    public init() {}

    /// Starts saving `manifest` with the current parameters/optimizer state to `directory`
    /// (`state`: whole optimizer buffers gathered from a ZeRO shard, as in `TrainingCheckpoint.payloads`).
    /// Waits for the previous save first and rethrows its error, if any.
    public func save(_ manifest: Manifest, arena: ParameterArena, optimizer: (any Optimizer)?, state: [(name: String, storage: Storage)]? = nil,
                     directory: String, retention: (keepLast: Int, keepEvery: Int)) throws {
        try finish()
        let group = DispatchGroup()
        let taken = DispatchSemaphore(value: 0)
        lock.lock(); inFlight = group; snapshotTaken = taken; lock.unlock()
        let job = SnapshotJob(arena: arena, optimizer: optimizer, state: state)
        group.enter()
        queue.async { [self] in
            defer { group.leave() }
            let payloads = job.take()
            taken.signal()
            do {
                let path = try CheckpointWriter.write(manifest, tensors: payloads, directory: directory)
                CheckpointStore(directory: directory).applyRetention(keepLast: retention.keepLast, keepEvery: retention.keepEvery)
                onCommit?(path)
            } catch {
                lock.lock(); failure = error; lock.unlock()
            }
        }
    }

    /// Blocks until the in-flight save has copied the state it needs; call before
    /// changing parameters or optimizer buffers. Rethrows an earlier writer error.
    public func beforeParameterUpdate() throws {
        lock.lock(); let taken = snapshotTaken; snapshotTaken = nil; lock.unlock()
        if let taken { taken.wait() }
        try rethrowFailure()
    }

    /// Waits for the in-flight save to be committed; rethrows its error.
    public func finish() throws {
        lock.lock(); let group = inFlight; let taken = snapshotTaken; inFlight = nil; snapshotTaken = nil; lock.unlock()
        if let taken { taken.wait() }
        group?.wait()
        try rethrowFailure()
    }

    private func rethrowFailure() throws {
        lock.lock(); let f = failure; failure = nil; lock.unlock()
        if let f { throw f }
    }

    /// Carries the arena and optimizer to the writer thread; the copy happens there,
    /// while the training thread is guaranteed (by `beforeParameterUpdate`) not to write.
    private struct SnapshotJob: @unchecked Sendable {
        let arena: ParameterArena
        let optimizer: (any Optimizer)?
        let state: [(name: String, storage: Storage)]?
        func take() -> [TensorPayload] { TrainingCheckpoint.snapshot(arena: arena, optimizer: optimizer, state: state) }
    }
}
