// The one way to run a collective wait under the rank's deadline: a value holding the
// `CollectiveWatchdog` (or none) and the group a wait depends on. DataParallel, the
// virtual-shard reducer, the Trainer's loop and validation, the task zoo's evaluations
// and the rank supervisor all wait through it, so every collective-timeout report names
// its operation and peers the same way.

/// Runs collective waits under a watchdog's deadline, or just runs them when there is none.
///
/// `guard("allreduce of the step loss") { try comm.allreduce(…) }` records the wait (on the
/// whole group unless `peers` names others) for the watchdog's report; see
/// `CollectiveWatchdog.guarding(operation:step:peers:slack:_:)`.
public struct CollectiveGuard: Sendable {
    /// The watchdog the waits report to (nil: no deadline).
    public let watchdog: CollectiveWatchdog?
    /// The peers a wait depends on unless it names others: `ranks 0–3` (`rank 0` alone).
    public let group: String

    /// Guards waits of a group of `groupSize` ranks with `watchdog` (nil: no deadline).
    public init(watchdog: CollectiveWatchdog?, groupSize: Int) {
        self.watchdog = watchdog
        self.group = CollectiveWatchdog.group(size: groupSize)
    }

    /// No deadline: every wait just runs.
    public static let unguarded = CollectiveGuard(watchdog: nil, groupSize: 1)

    /// Runs `body` (a wait named `operation`, e.g. `allreduce of bucket 0`, on `peers`,
    /// default the whole group) under the deadline extended by `slack` seconds. Rethrows
    /// `body`'s error.
    public func callAsFunction<T>(_ operation: String, peers: String? = nil, slack: Double = 0,
                                  _ body: () throws -> T) rethrows -> T {
        guard let watchdog else { return try body() }
        return try watchdog.guarding(operation: operation, peers: peers ?? group, slack: slack, body)
    }

    /// Reports, from the waiting thread, a wait that hit its own deadline (`detail`: its
    /// error); see `CollectiveWatchdog.expired`. Does nothing without a watchdog.
    public func expired(_ operation: String, peers: String? = nil, detail: String?) {
        watchdog?.expired(operation: operation, peers: peers ?? group, detail: detail)
    }
}
