// A deadline on every collective wait of a training step. A blocking MPI call
// whose peer hangs (stopped, partitioned) never returns, so the thread that
// waits cannot notice: the rank's thread records what it is waiting for, and a
// background thread hands any wait older than the deadline to a handler (in
// `cohort train`: report, then end the process so mpirun ends the job).
import CohortCollectives
import Foundation
import Synchronization

/// Watches the collective waits of one rank and reports the first one that outlives its deadline.
///
/// The rank's thread wraps each wait in `guarding(operation:step:peers:slack:_:)`; a
/// background thread (started by `init`, polling every `timeout / 10`, at most 0.1 s) calls
/// `onStall` once when a wait has lasted longer than `timeout` (+ its `slack`). Waits that
/// carry their own deadline report through `expired(…)` from the waiting thread instead.
/// `onStall` runs at most once per watchdog, on whichever thread noticed first; it must not
/// call MPI (another thread may be inside it). All methods are thread-safe.
public final class CollectiveWatchdog: Sendable {
    /// A wait that did not complete in time.
    public struct Stall: Sendable, CustomStringConvertible {
        /// The rank that waited.
        public var rank: Int
        /// The training step (1-based) the wait belongs to.
        public var step: Int
        /// What was in flight, e.g. `allreduce of bucket 0`.
        public var operation: String
        /// Whom the rank waited for, e.g. `ranks 0–3` or `rank 2`.
        public var peers: String
        /// The deadline that passed, in seconds.
        public var seconds: Double
        /// The waiting call's own error, when it timed out by itself (e.g. the missing node-local ranks).
        public var detail: String?

        /// `collective timeout on rank 1 at step 12: allreduce of bucket 0 did not complete within 3 s (waiting for ranks 0–3)`.
        public var description: String {
            "collective timeout on rank \(rank) at step \(step): \(operation) did not complete within "
                + "\(CollectiveWatchdog.format(seconds)) s (waiting for \(peers))" + (detail.map { ": \($0)" } ?? "")
        }
    }

    /// Seconds a guarded wait may last.
    public let timeout: Double
    /// This process's rank, named in every `Stall`.
    public let rank: Int
    private let onStall: @Sendable (Stall) -> Void
    private let state = Mutex(State())

    private struct InFlight {
        var operation: String
        var step: Int
        var peers: String
        var deadline: UInt64   // uptime nanoseconds
    }

    private struct State {
        var inFlight: [InFlight] = []
        var step = 0
        var fired = false
        var stopped = false
    }

    /// Starts the watching thread. `timeout` must be positive (seconds).
    public init(timeout: Double, rank: Int, onStall: @escaping @Sendable (Stall) -> Void) {
        self.timeout = timeout
        self.rank = rank
        self.onStall = onStall
        let thread = Thread { [self] in watch() }
        thread.name = "cohort-collective-watchdog"
        thread.start()
    }

    /// `ranks 0–3` for a group of `size` ranks (`rank 0` alone).
    public static func group(size: Int) -> String { size <= 1 ? "rank 0" : "ranks 0–\(size - 1)" }

    /// The step that `guarding` records when it is given none (set at each step's start).
    public var step: Int {
        get { state.withLock { $0.step } }
        set { state.withLock { $0.step = newValue } }
    }

    /// Runs `body` (a wait on `peers`) under the deadline, recording `operation` and `step`
    /// (default: the current `step`) for the report. `slack` extends the background thread's
    /// deadline for waits that time themselves out and report a more precise `expired(…)`.
    /// Rethrows `body`'s error.
    public func guarding<T>(operation: String, step: Int? = nil, peers: String, slack: Double = 0,
                            _ body: () throws -> T) rethrows -> T {
        let deadline = Self.now() + UInt64(max(timeout + slack, 0) * 1e9)
        state.withLock { s in
            s.inFlight.append(InFlight(operation: operation, step: step ?? s.step, peers: peers, deadline: deadline))
        }
        defer { state.withLock { _ = $0.inFlight.popLast() } }
        return try body()
    }

    /// Reports, from the calling thread, a wait that hit its own deadline (`detail`: its error).
    /// Calls `onStall` unless a stall was reported already.
    public func expired(operation: String, step: Int? = nil, peers: String, detail: String?) {
        let stall = state.withLock { s -> Stall? in
            guard !s.fired else { return nil }
            s.fired = true
            return Stall(rank: rank, step: step ?? s.step, operation: operation, peers: peers, seconds: timeout, detail: detail)
        }
        if let stall { onStall(stall) }
    }

    /// Ends the watching thread (within one poll interval). Idempotent.
    public func stop() { state.withLock { $0.stopped = true } }

    private func watch() {
        let poll = min(max(timeout / 10, 0.001), 0.1)
        while true {
            Thread.sleep(forTimeInterval: poll)
            let now = Self.now()
            let stall = state.withLock { s -> Stall? in
                guard !s.stopped, !s.fired else { return nil }
                // The innermost expired wait is the most specific description.
                guard let late = s.inFlight.last(where: { $0.deadline <= now }) else { return nil }
                s.fired = true
                return Stall(rank: rank, step: late.step, operation: late.operation, peers: late.peers, seconds: timeout, detail: nil)
            }
            if let stall { onStall(stall) }
            if state.withLock({ $0.stopped || $0.fired }) { return }
        }
    }

    private static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int(seconds)) : String(seconds)
    }
}
