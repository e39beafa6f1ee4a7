// The restart budget and the record of every failure. A failure uses up one
// restart; a membership change (scaling up while healthy) does not. When the
// coordinator gives up, `FailureHistory.summary` tells the user what happened.
import CohortProcess
import Foundation

/// One failed attempt, as remembered for the summary.
public struct FailureRecord: Sendable, Equatable {
    /// The attempt that failed (`COHORT_ATTEMPT`).
    public var attempt: Int
    /// When the failure was detected.
    public var time: Date
    /// Ranks in that attempt.
    public var worldSize: Int
    /// Hosts of that attempt with their ranks.
    public var hosts: [HostSlots]
    /// What went wrong.
    public var kind: FailureKind

    public init(attempt: Int, time: Date = Date(), worldSize: Int, hosts: [HostSlots], kind: FailureKind) {
        self.attempt = attempt
        self.time = time
        self.worldSize = worldSize
        self.hosts = hosts
        self.kind = kind
    }
}

/// Every failure of a run, oldest first.
public struct FailureHistory: Sendable, Equatable {
    /// The failures recorded.
    public private(set) var records: [FailureRecord] = []

    public init() {}

    /// Adds a failure.
    public mutating func append(_ record: FailureRecord) { records.append(record) }

    /// One line per failure:
    /// `attempt 2 at 2025-01-31T12:00:00.123Z, np=4 on h1:2,h2:2: rankCrashed: rank 1 on node h2 exited on signal 9 (Killed)`,
    /// under a heading with the count (empty history: "no failures").
    public func summary() -> String {
        guard !records.isEmpty else { return "no failures" }
        var lines = ["\(records.count) \(records.count == 1 ? "failure" : "failures"):"]
        for r in records {
            let hosts = r.hosts.isEmpty ? "no hosts" : r.hosts.map(\.description).joined(separator: ",")
            lines.append("  attempt \(r.attempt) at \(POSIX.iso8601UTC(r.time)), np=\(r.worldSize) on \(hosts): \(r.kind)")
        }
        return lines.joined(separator: "\n")
    }
}

/// What to do after a failure.
public enum RestartDecision: Sendable, Equatable {
    /// Restart; `restartsUsed` counts this one.
    case restart(restartsUsed: Int)
    /// Stop; `reason` is one sentence for the user (the summary gives the details).
    case giveUp(reason: String)
}

/// Allows up to `maxRestarts` restarts after failures.
public struct RestartPolicy: Sendable {
    /// Restarts allowed after failures (0: the first failure ends the run).
    public let maxRestarts: Int
    /// Restarts granted so far.
    public private(set) var restartsUsed = 0
    /// Every failure recorded, including the last one that made it give up.
    public private(set) var history = FailureHistory()

    public init(maxRestarts: Int) { self.maxRestarts = max(0, maxRestarts) }

    /// Restarts still available.
    public var restartsRemaining: Int { maxRestarts - restartsUsed }

    /// Records `failure` and decides: give up when it is not retryable (a user or
    /// launcher error) or the budget is spent, else restart and count it.
    public mutating func recordFailure(_ failure: FailureRecord) -> RestartDecision {
        history.append(failure)
        guard failure.kind.isRetryable else {
            return .giveUp(reason: "attempt \(failure.attempt) failed with a \(failure.kind.name), which a restart cannot fix: \(failure.kind.detail)")
        }
        guard restartsUsed < maxRestarts else {
            return .giveUp(reason: "attempt \(failure.attempt) failed and all \(maxRestarts) \(maxRestarts == 1 ? "restart is" : "restarts are") used up")
        }
        restartsUsed += 1
        return .restart(restartsUsed: restartsUsed)
    }

    /// The text for the "gave up" exit: the reason, then every failure.
    public func gaveUpSummary(reason: String) -> String {
        "cohort launch gave up: \(reason)\n" + history.summary()
    }
}
