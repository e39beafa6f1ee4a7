// The hooks through which a job supervisor watches the training loop: step
// boundaries (heartbeats, fault injection), the deadline on collective waits, and
// the per-step agreement in which ranks learn the global loss and whether to
// stop. `cohort train` plugs in its coordinator-aware supervisor; library users
// get `LocalSupervision`.
import CohortCollectives
import CohortDistributed

/// What every rank learned in the step's agreement.
public struct StepAgreement: Sendable {
    /// The step's loss averaged over ranks (bitwise the same on every rank).
    public var loss: Float
    /// Set when the job must checkpoint and exit now (a signal, the coordinator): why.
    public var preemption: String?
    /// True when a callback on some rank asked the run to finish early (e.g. early stopping).
    public var finishRequested: Bool

    public init(loss: Float, preemption: String? = nil, finishRequested: Bool = false) {
        self.loss = loss
        self.preemption = preemption
        self.finishRequested = finishRequested
    }
}

/// Supervision hooks, called on the training thread.
public protocol TrainingSupervision: AnyObject {
    /// Deadline on every collective wait of the run (nil: none); the Trainer waits through a
    /// `CollectiveGuard` on it.
    var watchdog: CollectiveWatchdog? { get }
    /// Start of 1-based step `step`.
    func beginStep(_ step: Int)
    /// The global loss and stop decisions; collective (every rank, every step).
    func agree(loss: Float, finishRequested: Bool, step: Int, comm: any Communicator) throws -> StepAgreement
    /// After step `step` completed.
    func completed(step: Int)
    /// True (once) when fault injection kills the save after `step` steps.
    func crashesCheckpoint(atStep step: Int) -> Bool
    /// Told of each committed checkpoint (any thread).
    var reportSaved: @Sendable (String) -> Void { get }
}

/// Supervision without a coordinator: no deadlines, no injected faults; ranks agree on the
/// loss and on finishing early in one small allreduce per step.
public final class LocalSupervision: TrainingSupervision {
    private var agreement: [Float] = [0, 0]
    public init() {}
    public var watchdog: CollectiveWatchdog? { nil }
    public func beginStep(_ step: Int) {}
    public func agree(loss: Float, finishRequested: Bool, step: Int, comm: any Communicator) throws -> StepAgreement {
        guard comm.size > 1 else { return StepAgreement(loss: loss, finishRequested: finishRequested) }
        agreement[0] = loss
        agreement[1] = finishRequested ? 1 : 0
        try agreement.withUnsafeMutableBufferPointer { try comm.allreduce($0, op: .sum) }
        return StepAgreement(loss: Mean.of(sum: agreement[0], count: comm.size), finishRequested: agreement[1] > 0)
    }
    public func completed(step: Int) {}
    public func crashesCheckpoint(atStep step: Int) -> Bool { false }
    public var reportSaved: @Sendable (String) -> Void { { _ in } }
}
