// The coordinator's lifecycle as an explicit state machine (after
// torch.distributed.elastic's worker states): every change names its cause and
// context and is appended to the event log, and a change the table does not
// allow is an error instead of a silent jump.

/// Where a launch stands.
public enum LaunchState: String, Sendable, CaseIterable, CustomStringConvertible {
    /// mpirun was started; the ranks have not all reported in yet.
    case starting
    /// Every rank reported in and training makes progress.
    case healthy
    /// The attempt ended badly (crash, hang, lost node, preemption, user error).
    case failed
    /// Tearing down and choosing hosts and a world size for the next attempt.
    case restarting
    /// Training finished (terminal).
    case succeeded
    /// Out of restarts, or a failure that a restart cannot fix (terminal).
    case gaveUp

    public var description: String { rawValue }

    /// The states reachable from this one in a single step.
    ///
    /// `healthy → restarting` is a membership change (scaling up while healthy),
    /// which is not a failure and does not use up a restart.
    public var successors: [LaunchState] {
        switch self {
        case .starting: return [.healthy, .failed, .succeeded]
        case .healthy: return [.failed, .succeeded, .restarting]
        case .failed: return [.restarting, .gaveUp]
        case .restarting: return [.starting]
        case .succeeded, .gaveUp: return []
        }
    }

    /// True for `succeeded` and `gaveUp`.
    public var isTerminal: Bool { successors.isEmpty }
}

/// Which attempt is running, on how many ranks, on which hosts.
public struct LaunchContext: Sendable, Equatable {
    /// 0 for the first launch, then 1, 2, … (`COHORT_ATTEMPT`).
    public var attempt: Int
    /// Number of ranks (`-np`).
    public var worldSize: Int
    /// Hosts with the ranks placed on each, in rank order.
    public var hosts: [HostSlots]

    public init(attempt: Int, worldSize: Int, hosts: [HostSlots]) {
        self.attempt = attempt
        self.worldSize = worldSize
        self.hosts = hosts
    }
}

/// One state change, as recorded.
public struct LaunchTransition: Sendable, Equatable {
    public var from: LaunchState
    public var to: LaunchState
    /// Why, in words: "all 4 ranks reported", "rank 1 exited on signal 9", "2 hosts joined".
    public var cause: String
    public var context: LaunchContext
}

/// The launch state plus the rule book of allowed changes.
///
/// Starts in `starting`. `transition(to:cause:context:)` checks the change,
/// appends it to the event log (when one is given) and to `history`.
public struct LaunchStateMachine: Sendable {
    /// The current state.
    public private(set) var state: LaunchState = .starting
    /// Every transition made, oldest first.
    public private(set) var history: [LaunchTransition] = []
    private let log: EventLog?

    /// A machine in `starting`, logging to `log` when given.
    public init(log: EventLog? = nil) { self.log = log }

    /// Moves to `next`.
    /// - Throws: `LaunchError.invalidTransition` naming both states when the table
    ///   does not allow it (the state is unchanged); `LaunchError.eventLog` when the
    ///   record cannot be written (the state has changed: the log is a record, not
    ///   the authority).
    public mutating func transition(to next: LaunchState, cause: String, context: LaunchContext) throws {
        guard state.successors.contains(next) else {
            throw LaunchError.invalidTransition(from: state, to: next, cause: cause)
        }
        let record = LaunchTransition(from: state, to: next, cause: cause, context: context)
        state = next
        history.append(record)
        try log?.log(record)
    }
}
