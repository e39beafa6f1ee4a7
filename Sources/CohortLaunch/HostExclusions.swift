// Keeps failing hosts out of the next attempts with exponential back-off: the
// k-th failure excludes a host for base·2^(k-1) seconds (capped). When the
// back-off expires the host is offered again and a probe decides.
import CohortProcess

/// Hosts currently kept out of placement, and their failure counts.
public struct HostExclusions: Sendable {
    /// Back-off after the first failure, in seconds.
    public var baseBackoff: Double
    /// Longest back-off, in seconds.
    public var maxBackoff: Double
    private let clock: @Sendable () -> Double
    /// In order of first failure, so listings are stable.
    private var entries: [(host: String, failures: Int, until: Double)] = []

    /// - Parameters:
    ///   - baseBackoff: seconds of exclusion after the first failure (default 10).
    ///   - maxBackoff: cap on the exclusion (default 300).
    ///   - clock: seconds on any steady clock (injectable for tests); default: CLOCK_MONOTONIC.
    public init(baseBackoff: Double = 10, maxBackoff: Double = 300,
                clock: (@Sendable () -> Double)? = nil) {
        self.baseBackoff = baseBackoff
        self.maxBackoff = maxBackoff
        self.clock = clock ?? { POSIX.monotonicNow() }
    }

    /// Back-off after the `failures`-th failure: min(max, base·2^(failures-1)).
    public func backoff(afterFailures failures: Int) -> Double {
        guard failures > 0 else { return 0 }
        let doubling = Double(1 << min(failures - 1, 52))
        return min(maxBackoff, baseBackoff * doubling)
    }

    /// Records a failure of `host` and excludes it from now on for the back-off.
    /// - Returns: the seconds it is excluded for.
    @discardableResult
    public mutating func recordFailure(host: String) -> Double {
        let now = clock()
        if let i = entries.firstIndex(where: { $0.host == host }) {
            entries[i].failures += 1
            let seconds = backoff(afterFailures: entries[i].failures)
            entries[i].until = now + seconds
            return seconds
        }
        let seconds = backoff(afterFailures: 1)
        entries.append((host, 1, now + seconds))
        return seconds
    }

    /// Forgets the failures of `host` (e.g. after it ran a long healthy attempt).
    public mutating func reset(host: String) {
        entries.removeAll { $0.host == host }
    }

    /// Failures recorded for `host`.
    public func failureCount(host: String) -> Int {
        entries.first { $0.host == host }?.failures ?? 0
    }

    /// Seconds left in the exclusion of `host`; nil when it is not excluded.
    public func remainingExclusion(host: String) -> Double? {
        guard let e = entries.first(where: { $0.host == host }) else { return nil }
        let left = e.until - clock()
        return left > 0 ? left : nil
    }

    /// True while `host` is inside its back-off.
    public func isExcluded(_ host: String) -> Bool { remainingExclusion(host: host) != nil }

    /// `hosts` without the currently excluded ones, order kept.
    public func filter(_ hosts: [HostSlots]) -> [HostSlots] {
        hosts.filter { !isExcluded($0.host) }
    }

    /// Hosts excluded right now, in order of their first failure.
    public var excludedHosts: [String] {
        entries.map(\.host).filter(isExcluded)
    }
}
