// The exit codes of a training rank, shared by the rank side (CohortRuntime's
// RankSupervisor) and the coordinator's classification of a failed attempt.

/// How a rank's process ends; mpirun passes the first failing rank's code on.
public enum RankExitCode: Int32, Sendable, CaseIterable {
    /// Finished, or preempted after its checkpoint.
    case ok = 0
    /// Failed: a restart may help.
    case failed = 1
    /// The user's or the environment's error (bad flag or data, full disk, read-only
    /// directory): a restart fails the same way, so none is tried.
    case userError = 2
    /// A collective wait outlasted its deadline (a peer is hung or gone).
    case collectiveTimeout = 3
}
