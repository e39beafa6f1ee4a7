// Why an attempt failed, and whether a restart can help. The ranks' own
// structured reports come first; after them, OpenMPI 4.1's messages on
// mpirun's stderr; last, mpirun's exit status alone (FailureKind+Classification.swift).

/// The cause of a failed attempt.
public enum FailureKind: Sendable, Equatable, CustomStringConvertible {
    /// A rank died (signal, non-zero exit, MPI_Abort); `rank` when mpirun named it.
    case rankCrashed(rank: Int?, detail: String)
    /// A node (its OpenMPI daemon) was lost or could not be started; `host` when known.
    case nodeLost(host: String?, detail: String)
    /// The supervisor saw no progress (missed heartbeats) and killed the attempt.
    case hang(detail: String)
    /// A rank reported that a collective exceeded its deadline.
    case collectiveTimeout(detail: String)
    /// A rank (or the scheduler) reported preemption.
    case preempted(detail: String)
    /// The user's input is wrong (bad flag, missing file, shape mismatch); a restart cannot fix it.
    case userError(detail: String)
    /// The environment refuses the job (a full disk or quota, a read-only or forbidden
    /// checkpoint directory); a restart fails the same way until the user fixes it.
    case environmentError(detail: String)
    /// mpirun itself could not run the job (not enough slots, missing executable, bad mpirun args).
    case launcherError(detail: String)

    /// False for user, environment and launcher errors: running the same thing again fails again.
    public var isRetryable: Bool {
        switch self {
        case .userError, .environmentError, .launcherError: return false
        default: return true
        }
    }

    /// The case name as written in logs: `rankCrashed`, `nodeLost`, ….
    public var name: String {
        switch self {
        case .rankCrashed: return "rankCrashed"
        case .nodeLost: return "nodeLost"
        case .hang: return "hang"
        case .collectiveTimeout: return "collectiveTimeout"
        case .preempted: return "preempted"
        case .userError: return "userError"
        case .environmentError: return "environmentError"
        case .launcherError: return "launcherError"
        }
    }

    /// The human part: what happened, naming rank and node where known.
    public var detail: String {
        switch self {
        case let .rankCrashed(_, d), let .nodeLost(_, d), let .hang(d), let .collectiveTimeout(d),
             let .preempted(d), let .userError(d), let .environmentError(d), let .launcherError(d):
            return d
        }
    }

    /// The host to exclude, for a lost node whose name is known.
    public var lostHost: String? {
        if case let .nodeLost(host, _) = self { return host }
        return nil
    }

    /// `rankCrashed: rank 1 on node vm exited on signal 9 (Killed)`.
    public var description: String { "\(name): \(detail)" }
}
