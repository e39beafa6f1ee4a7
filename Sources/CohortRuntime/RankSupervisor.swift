// The rank side of supervision for any Trainer program (`cohort train` and a user's own):
// the control channel to `cohort launch` (heartbeats, final reports), stop requests agreed
// at step boundaries, the collective deadline, fault injection, and the exit codes the
// coordinator classifies (`RankExitCode`: 0 done or preempted, 1 failed, 2 user or
// environment error, 3 collective timeout). A rank failing alone under mpirun ends the
// whole job with MPI_Abort, never with a collective cleanup.
import CohortCheckpoint
import CohortCollectives
import CohortControl
import CohortCore
import CohortDistributed
import CohortMPI
import CohortTrainer
import Foundation
import Synchronization

/// Rank-side environment variables beyond the four of `ControlEnvironment`.
public enum RankEnvironment {
    /// Restarts after failures so far (set by the coordinator; logged).
    public static let restartCount = "COHORT_RESTART_COUNT"
    /// Seconds the control connection may be down before the rank checkpoints and stops.
    public static let heartbeatTimeout = "COHORT_HEARTBEAT_TIMEOUT"
    /// Fault injection SPEC, when `--inject-fault` is not given.
    public static let fault = "COHORT_FAULT"
    /// `COHORT_HEARTBEAT_TIMEOUT` when unset.
    public static let defaultHeartbeatTimeout = 30.0

    /// A non-negative integer variable, or `fallback` when unset or empty.
    /// - Throws: `ControlError.badEnvironment` naming the variable.
    static func integer(_ name: String, fallback: Int, _ env: [String: String]) throws -> Int {
        guard let text = env[name], !text.isEmpty else { return fallback }
        guard let value = Int(text), value >= 0 else {
            throw ControlError.badEnvironment(variable: name, "expected a non-negative integer, got \"\(text.prefix(40))\"")
        }
        return value
    }

    /// A positive number of seconds, or `fallback` when unset or empty.
    /// - Throws: `ControlError.badEnvironment` naming the variable.
    static func seconds(_ name: String, fallback: Double, _ env: [String: String]) throws -> Double {
        guard let text = env[name], !text.isEmpty else { return fallback }
        guard let value = Double(text), value > 0, value.isFinite else {
            throw ControlError.badEnvironment(variable: name, "expected a positive number of seconds, got \"\(text.prefix(40))\"")
        }
        return value
    }
}

/// An error the user must fix (bad flag or value, bad data, an unusable `--resume`
/// checkpoint, …): the rank reports `userError` and exits 2, and no restart is tried.
public struct UserError: Error, CustomStringConvertible {
    public let underlying: any Error
    public init(_ error: any Error) { underlying = (error as? UserError)?.underlying ?? error }
    public var description: String { "\(underlying)" }
}

/// `3` for 3.0, `0.5` for 0.5.
func formatSeconds(_ s: Double) -> String { s == s.rounded() && abs(s) < 1e15 ? String(Int(s)) : String(format: "%.1f", s) }

/// Ends the process once, from whichever thread gets there first (the rank's thread on an
/// error, the watchdog's on a stalled collective): print, report, exit with the code.
public final class RankExit: Sendable {
    private let client = Mutex<ControlClient?>(nil)
    private let exiting = Atomic<Bool>(false)
    /// Latest completed step, for reports.
    let step = Atomic<Int>(0)

    func attach(_ c: ControlClient) { client.withLock { $0 = c } }
    var controlClient: ControlClient? { client.withLock { $0 } }

    /// Prints `Error: message` (unless `printed` is false), sends `kind` to the coordinator
    /// (≤ 2 s), optionally ends MPI (only from the rank's own thread: `finalizeMPI` when every
    /// rank ends together, `abortJob` when this rank fails alone — MPI_Abort ends every rank
    /// with `code` at once, while peers may wait in a collective), and `_exit`s with `code`.
    /// A second caller blocks: the first is about to end the process.
    func terminate(_ kind: ControlMessage.Kind, message: String, code: RankExitCode, printed: Bool = true,
                   finalizeMPI: Bool = false, abortJob: Bool = false) -> Never {
        guard exiting.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            while true { sleep(3600) }
        }
        if printed { FileHandle.standardError.write(Data("Error: \(message)\n".utf8)) }
        controlClient?.send(kind: kind, step: step.load(ordering: .relaxed), detail: message, flushWithin: 2)
        fflush(nil)
        if finalizeMPI { MPIRuntime.finalize() }
        if abortJob { MPIRuntime.abort(code: code.rawValue) }
        _exit(code.rawValue)
    }
}

/// One rank's supervision for one training run. Used from the rank's thread only,
/// except `exit` (shared with the watchdog thread).
public final class RankSupervisor: TrainingSupervision {
    public let rank: Int
    let exit = RankExit()
    public private(set) var client: ControlClient?
    /// Every collective wait of the rank's own (the step agreement, the preemption barrier, the
    /// task zoo's evaluations), on the whole group, under the watchdog once `start` made one.
    public private(set) var collectiveGuard = CollectiveGuard.unguarded
    /// The collective deadline (more than one rank, after `start`).
    public var watchdog: CollectiveWatchdog? { collectiveGuard.watchdog }
    /// This rank's place in the training group (a fold group's own rank under `cohort cv --parallel`).
    private var groupRank: Int?
    private var faults = FaultPlan()
    private var stops = StopMonitor(client: nil, heartbeatTimeout: RankEnvironment.defaultHeartbeatTimeout)
    /// [loss, one count per stop reason, finish requests], summed across ranks each step.
    private var agreement = [Float](repeating: 0, count: 2 + StopReasons.all.count)

    /// Installs the SIGTERM/SIGINT handlers: from now on they request a checkpoint-and-exit.
    public init(rank: Int) {
        self.rank = rank
        StopSignals.install()
    }

    /// Connects to the coordinator (when `COHORT_CONTROL_ADDR` is set), starts the collective
    /// watchdog (more than one rank) and reads the faults to inject (`faultSpec`, else `COHORT_FAULT`).
    /// - Throws: `UserError` for a malformed control environment or fault SPEC, naming the variable or parameter.
    public func start(comm: any Communicator, collectiveTimeout: Double, faultSpec: String?,
               environment env: [String: String] = ProcessInfo.processInfo.environment) throws {
        StopSignals.install()   // again: MPI_Init may have installed handlers of its own
        do {
            let attempt = try RankEnvironment.integer(ControlEnvironment.attempt, fallback: 0, env)
            if let client = try ControlClient.fromEnvironment(rank: comm.rank, environment: env) {
                let timeout = try RankEnvironment.seconds(RankEnvironment.heartbeatTimeout, fallback: RankEnvironment.defaultHeartbeatTimeout, env)
                let restarts = try RankEnvironment.integer(RankEnvironment.restartCount, fallback: 0, env)
                client.start()
                exit.attach(client)
                self.client = client
                stops = StopMonitor(client: client, heartbeatTimeout: timeout)
                Log.main("supervised by the coordinator at \(client.address): attempt \(attempt), restart \(restarts), "
                         + "heartbeat timeout \(formatSeconds(timeout)) s")
            }
            let fromFlag = faultSpec != nil
            if let spec = faultSpec ?? env[RankEnvironment.fault], !spec.isEmpty || fromFlag {
                faults = try FaultPlan(spec: spec, source: fromFlag ? "faultSpec" : RankEnvironment.fault,
                                       rank: comm.rank, attempt: attempt, worldSize: comm.size)
            }
        } catch { throw UserError(error) }
        guard collectiveTimeout > 0, collectiveTimeout.isFinite else {
            throw UserError(CohortError.invalidParameter(name: "collectiveTimeout", "must be a positive number of seconds, got \(collectiveTimeout)"))
        }
        groupRank = comm.rank
        var watchdog: CollectiveWatchdog?
        if comm.size > 1 {
            let exit = self.exit
            watchdog = CollectiveWatchdog(timeout: collectiveTimeout, rank: comm.rank) { stall in
                exit.terminate(.collectiveTimeout, message: stall.description + "; ending this rank so the job stops", code: .collectiveTimeout)
            }
        }
        collectiveGuard = CollectiveGuard(watchdog: watchdog, groupSize: comm.size)
    }

    /// Start of step `step` (1-based): injects the faults due now.
    public func beginStep(_ step: Int) {
        watchdog?.step = step
        faults.beforeStep(step)
    }

    /// The step's global loss (the mean over ranks, bitwise what `allreduceMean` gives)
    /// and whether all ranks stop after this step: each rank's stop reasons travel in the
    /// same allreduce, so every rank decides the same at the same step.
    /// A callback's request to finish early travels in the same allreduce (the last slot).
    public func agree(loss: Float, finishRequested: Bool, step: Int, comm: any Communicator) throws -> StepAgreement {
        let mine = stops.check()
        guard comm.size > 1 else {
            return StepAgreement(loss: loss, preemption: mine.isEmpty ? nil : mine.text, finishRequested: finishRequested)
        }
        agreement[0] = loss
        for (i, reason) in StopReasons.all.enumerated() { agreement[i + 1] = mine.contains(reason) ? 1 : 0 }
        agreement[agreement.count - 1] = finishRequested ? 1 : 0
        try collectiveGuard("allreduce of the step loss") {
            try agreement.withUnsafeMutableBufferPointer { try comm.allreduce($0, op: .sum) }
        }
        var agreed: StopReasons = []
        for (i, reason) in StopReasons.all.enumerated() where agreement[i + 1] > 0 { agreed.insert(reason) }
        // The same operation as the communicator's average: sum, then times 1/size.
        return StepAgreement(loss: Mean.of(sum: agreement[0], count: comm.size), preemption: agreed.isEmpty ? nil : agreed.text,
                             finishRequested: agreement[agreement.count - 1] > 0)
    }

    /// After step `step` completed: the heartbeat's step.
    public func completed(step: Int) {
        client?.report(step: step)
        exit.step.store(step, ordering: .relaxed)
    }

    /// True when fault injection makes this rank's loss NaN in `step`.
    public func poisonsLoss(atStep step: Int) -> Bool { faults.nanStep == step }

    /// True (once) when fault injection kills the save after `step` steps.
    public func crashesCheckpoint(atStep step: Int) -> Bool { faults.crashesCheckpoint(atStep: step) }

    /// Reports a committed checkpoint to the coordinator (any thread; does not wait).
    public var reportSaved: @Sendable (String) -> Void {
        let exit = self.exit
        return { path in
            let step = CheckpointLayout.step(fromDirectoryName: (path as NSString).lastPathComponent)
            exit.controlClient?.send(kind: .checkpointSaved, step: step, detail: path, flushWithin: 0)
        }
    }

    /// Every rank, after the agreed stop at `step` and rank 0's checkpoint of it: waits until
    /// rank 0 has committed, logs, reports `preempted` and ends MPI. The process then exits 0.
    public func preempted(atStep step: Int, reason: String, checkpointDirectory: String?, comm: any Communicator) throws {
        if comm.size > 1 { try collectiveGuard("barrier after the preemption checkpoint") { try comm.barrier() } }
        let name = CheckpointLayout.directoryName(step: step)
        let saved = checkpointDirectory.map { "checkpoint \($0)/\(name)" } ?? "no checkpoint saved (no --checkpoint-dir)"
        Log.info("preempted at step \(step): \(saved) (\(reason))")
        client?.send(kind: .preempted, step: step, detail: checkpointDirectory == nil ? "no checkpoint" : "checkpoint \(name)", flushWithin: 2)
        shutDown(comm)
    }

    /// Every rank, after the last step, the final checkpoint and the summary: reports
    /// `finished` and ends MPI.
    public func finished(step: Int, comm: any Communicator) {
        client?.send(kind: .finished, step: step, flushWithin: 2)
        shutDown(comm)
    }

    private func shutDown(_ comm: any Communicator) {
        watchdog?.stop()
        client?.stop()
        if comm.size > 1 { MPIRuntime.finalize() }
    }

    /// Ends the process for `error`: `Error: message` on standard error (`message` defaults to
    /// the error's description), the matching report, and exit 2 (user error, or the
    /// environment's: a full disk, a read-only or forbidden checkpoint directory), 3 (collective
    /// timeout) or 1 (anything else). Model mismatches are a verdict every rank reached
    /// together: rank 0 alone prints it, and all ranks end MPI together first, so no rank is
    /// killed before rank 0 has printed. Any other error may be this rank's alone: with more
    /// than one rank, MPI_Abort ends the job with the code.
    public func exit(for error: any Error, message: String? = nil) -> Never {
        let message = message ?? "\(error)"
        let alone = RunInfo.current.worldSize > 1
        switch (error as? UserError)?.underlying ?? error {
        case is DataParallelError:
            exit.terminate(.userError, message: message, code: .userError, printed: (groupRank ?? rank) == 0, finalizeMPI: true)
        case _ where RankSupervisor.isEnvironmentError(error):
            exit.terminate(.environmentError, message: message, code: .userError, abortJob: alone)
        case CheckpointError.inUse:   // another live run writes this checkpoint directory
            exit.terminate(.userError, message: message, code: .userError, abortJob: alone)
        case _ where error is UserError, is CohortError, is ControlError, is ResumeError:
            exit.terminate(.userError, message: message, code: .userError, abortJob: alone)
        case CommunicationError.timeout:
            watchdog?.stop()
            exit.terminate(.collectiveTimeout, message: message, code: .collectiveTimeout, abortJob: alone)
        default:
            exit.terminate(.failed, message: message, code: .failed, abortJob: alone)
        }
    }

    /// A full disk or quota, a read-only or forbidden checkpoint directory (also when
    /// reached through a resume): the user must fix the machine, a restart cannot.
    public static func isEnvironmentError(_ error: any Error) -> Bool {
        switch error {
        case let e as UserError: return isEnvironmentError(e.underlying)
        case let e as ResumeError: return isEnvironmentError(e.underlying)
        case CheckpointError.storage: return true
        default: return false
        }
    }
}
