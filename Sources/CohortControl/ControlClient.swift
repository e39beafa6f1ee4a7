// A rank's end of the control channel: a background thread that keeps a
// connection to the coordinator, says hello, sends heartbeats with the latest
// step and the rank's events, and keeps the latest command the coordinator sent.
import Dispatch
import Foundation
import Synchronization

/// The rank side of the control channel.
///
/// `start()` runs one background thread. It connects (2 s timeout), sends
/// `hello`, then a `heartbeat` with the latest `report(step:)` every interval;
/// if the coordinator is unreachable or the connection drops it retries quietly
/// with back-off (50 ms doubling to 1 s). Nothing here blocks the caller for
/// longer than asked, throws from the thread, or exits the process. A frame from
/// the coordinator that fails any check (HMAC, run, attempt, sender, seq) drops
/// the connection, which is then re-established. All methods are thread-safe.
public final class ControlClient: Sendable {
    /// The coordinator's `host:port`.
    public let address: String
    /// The run id messages carry.
    public let runID: String
    /// The launch attempt messages carry.
    public let attempt: Int
    /// This process's rank.
    public let rank: Int
    private let core: ClientCore

    /// Events waiting to be sent beyond this are refused (`send` returns false).
    static let maxQueuedEvents = 1024
    /// `detail` is cut to this many Unicode scalars so any event fits in a frame.
    static let maxDetailScalars = 8000

    /// A client for `rank`; nothing connects until `start()`.
    /// Throws `ControlError.badAddress` unless `address` is `host:port`.
    public init(address: String, runID: String, secret: ControlSecret, attempt: Int, rank: Int) throws {
        self.address = address
        self.runID = runID
        self.attempt = attempt
        self.rank = rank
        core = ClientCore(address: try ControlAddress(parsing: address), runID: runID, secret: secret,
                          attempt: attempt, rank: rank)
    }

    /// A client configured from `COHORT_CONTROL_ADDR`, `COHORT_RUN_ID`, `COHORT_RUN_SECRET`
    /// and `COHORT_ATTEMPT` (see `ControlEnvironment`). Returns nil when `COHORT_CONTROL_ADDR`
    /// is unset or empty (not launched by `cohort launch`); throws `ControlError.missingEnvironment`
    /// or `.badEnvironment`, naming the variable, when it is set but another is missing or malformed.
    public static func fromEnvironment(rank: Int, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> ControlClient? {
        guard let address = environment[ControlEnvironment.address], !address.isEmpty else { return nil }
        func required(_ name: String) throws -> String {
            guard let value = environment[name] else {
                throw ControlError.missingEnvironment(variable: name, "required when \(ControlEnvironment.address) is set")
            }
            guard !value.isEmpty else { throw ControlError.badEnvironment(variable: name, "is empty") }
            return value
        }
        let runID = try required(ControlEnvironment.runID)
        let secret: ControlSecret
        do { secret = try ControlSecret(hex: required(ControlEnvironment.secret)) } catch let ControlError.badSecret(why) {
            throw ControlError.badEnvironment(variable: ControlEnvironment.secret, why)
        }
        let attemptText = try required(ControlEnvironment.attempt)
        guard let attempt = Int(attemptText), attempt >= 0 else {
            throw ControlError.badEnvironment(variable: ControlEnvironment.attempt,
                                              "expected a non-negative integer, got \"\(attemptText.prefix(40))\"")
        }
        do {
            return try ControlClient(address: address, runID: runID, secret: secret, attempt: attempt, rank: rank)
        } catch let ControlError.badAddress(_, why) {
            throw ControlError.badEnvironment(variable: ControlEnvironment.address, "\"\(address.prefix(100))\": \(why)")
        }
    }

    deinit { stop() }

    /// Starts the background thread (no-op if already running). Never throws: if even
    /// the thread's wake pipe cannot be made, the client stays stopped and `send` returns false.
    public func start(heartbeatInterval: Double = 1.0) {
        core.start(interval: max(heartbeatInterval, 0.01))
    }

    /// Records the current training step for the next heartbeat: one relaxed atomic store.
    public func report(step: Int) {
        core.step.store(step, ordering: .relaxed)
    }

    /// Sends an event ahead of any heartbeat and waits up to `seconds` until its bytes are
    /// handed to the kernel. Returns true if they were; false if the client is not running,
    /// too many events are queued, or time ran out (the event then stays queued and goes out
    /// on the next connection while the client runs). `detail` is cut to 8000 Unicode scalars.
    /// `kind` `.command` is the coordinator's alone: it is not sent and the result is false.
    /// With `seconds` 0 the call does not wait (and usually returns false, though the event goes out).
    @discardableResult
    public func send(kind: ControlMessage.Kind, step: Int? = nil, detail: String? = nil,
                     flushWithin seconds: Double) -> Bool {
        guard kind != .command else { return false }
        let cut = detail.map { String(String.UnicodeScalarView($0.unicodeScalars.prefix(Self.maxDetailScalars))) }
        guard let (id, wake) = core.enqueue(kind: kind, step: step, detail: cut) else { return false }
        wake.signal()
        return core.flushed.wait(for: id, seconds: seconds)
    }

    /// The latest command the coordinator sent (e.g. `ControlCommand.checkpointAndExit`), cleared by this call.
    public func pendingCommand() -> String? {
        core.state.withLock { state in
            defer { state.command = nil }
            return state.command
        }
    }

    /// Whether a connection to the coordinator is currently open.
    public var isConnected: Bool { core.state.withLock { $0.connected } }

    /// Stops the thread and closes the connection, waiting at most 3 s (a host-name
    /// lookup in progress cannot be interrupted). Idempotent. Queued events are not flushed:
    /// use `send(kind:step:detail:flushWithin:)` first.
    public func stop() { core.stop() }
}

/// One pending event, queued by `send` and written by the thread.
struct PendingEvent {
    var id: UInt64
    var kind: ControlMessage.Kind
    var step: Int?
    var detail: String?
    var time: Double
}

struct ClientState {
    var running = false
    var stopping = false
    var connected = false
    var wake: WakePipe?
    var done: DispatchSemaphore?
    var events: [PendingEvent] = []
    var nextEventID: UInt64 = 1
    var command: String?
    /// Highest seq accepted from the coordinator, across connections and restarts,
    /// so a captured command cannot be replayed on a new connection.
    var lastServerSeq: UInt64 = 0
}

/// Lets `send` wait until the thread has written its event: events are written in id order.
final class FlushTracker: Sendable {
    private let condition = NSCondition()
    nonisolated(unsafe) private var writtenThrough: UInt64 = 0

    func markWritten(through id: UInt64) {
        condition.lock()
        writtenThrough = max(writtenThrough, id)
        condition.broadcast()
        condition.unlock()
    }

    func wait(for id: UInt64, seconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: max(seconds, 0))
        condition.lock()
        defer { condition.unlock() }
        while writtenThrough < id {
            if !condition.wait(until: deadline) { break }
        }
        return writtenThrough >= id
    }
}

/// The state shared by the public API and the client's thread.
final class ClientCore: Sendable {
    let address: ControlAddress
    let runID: String
    let secret: ControlSecret
    let attempt: Int
    let rank: Int
    /// Latest reported step; `Int.min` until the first report.
    let step = Atomic<Int>(Int.min)
    let state = Mutex(ClientState())
    let flushed = FlushTracker()

    init(address: ControlAddress, runID: String, secret: ControlSecret, attempt: Int, rank: Int) {
        self.address = address
        self.runID = runID
        self.secret = secret
        self.attempt = attempt
        self.rank = rank
    }

    var currentStep: Int? {
        let s = step.load(ordering: .relaxed)
        return s == Int.min ? nil : s
    }

    var isStopping: Bool { state.withLock { $0.stopping } }

    func start(interval: Double) {
        guard let wake = try? WakePipe() else { return }
        let session = ClientSession(core: self, wake: wake, interval: interval)
        let started = state.withLock { state -> Bool in
            guard !state.running else { return false }
            state.running = true
            state.stopping = false
            state.wake = wake
            state.done = session.done
            return true
        }
        guard started else { return }
        let thread = Thread { session.run() }
        thread.name = "cohort-control-client"
        thread.start()
    }

    func stop() {
        let parts = state.withLock { state -> (WakePipe, DispatchSemaphore)? in
            guard state.running, !state.stopping, let wake = state.wake, let done = state.done else { return nil }
            state.stopping = true
            return (wake, done)
        }
        guard let (wake, done) = parts else { return }
        wake.signal()
        _ = done.wait(timeout: .now() + 3)
    }

    func enqueue(kind: ControlMessage.Kind, step: Int?, detail: String?) -> (UInt64, WakePipe)? {
        state.withLock { state in
            guard state.running, !state.stopping, let wake = state.wake,
                  state.events.count < ControlClient.maxQueuedEvents else { return nil }
            let id = state.nextEventID
            state.nextEventID += 1
            state.events.append(PendingEvent(id: id, kind: kind, step: step, detail: detail,
                                             time: Date().timeIntervalSince1970))
            return (id, wake)
        }
    }
}
