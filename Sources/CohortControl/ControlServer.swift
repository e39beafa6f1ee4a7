// The coordinator's end of the control channel: a TCP listener whose I/O
// thread authenticates rank messages and keeps per-rank liveness, and a
// thread-safe API to read that state and send commands back to a rank.
import CohortCore
import Dispatch
import Foundation
import Synchronization

/// What the coordinator last heard from one rank (in the current attempt).
public struct RankStatus: Sendable, Equatable {
    /// The rank.
    public var rank: Int
    /// Kind of the last accepted message.
    public var lastKind: ControlMessage.Kind
    /// The last step any accepted message carried (nil if none did).
    public var lastStep: Int?
    /// `detail` of the last accepted message that had one.
    public var lastDetail: String?
    /// Monotonic time (`ControlServer.monotonicNow()`) of the last accepted message.
    public var lastMessageTime: Double
    /// Seconds between the last accepted message and the `snapshot()` call.
    public var secondsSinceLastMessage: Double
    /// Whether the connection the rank last used is still open.
    public var connected: Bool
    /// `ip:port` of that connection.
    public var peer: String
}

/// Called on the server's I/O thread for every accepted message, with the peer's `ip:port`.
/// Keep it short: the I/O thread serves every connection.
public typealias ControlMessageHandler = @Sendable (ControlMessage, _ peer: String) -> Void
/// Called on the server's I/O thread when an authenticated connection is closed (bad
/// frame, idleness, full outgoing buffer) or any connection is refused for a message that
/// carried a valid tag (stale attempt, other run, replay). Connections that never authenticated
/// are only counted (`ControlRejectionCounts`), so a flood of them cannot flood the log.
public typealias ControlRejectionHandler = @Sendable (_ reason: String, _ peer: String) -> Void

/// The coordinator side of the control channel.
///
/// `start()` binds a listener and runs one I/O thread that `poll`s it and every
/// connection. A connection is closed on its first bad frame (bad length, bad
/// HMAC, undecodable JSON, wrong run id or attempt, replayed `seq`), after
/// `idleTimeout` seconds without a valid frame, or when a command cannot be
/// queued because the peer stopped reading.
///
/// Admission (anyone who can reach the port can connect): every pending connection is
/// accepted at once and read at once, so a rank's hello, sent as it connects, usually
/// authenticates it on the spot. A connection that has not authenticated is one of at most
/// `maxUnauthenticated`; a newer one evicts the oldest, and it is closed `handshakeTimeout`
/// seconds after the accept. Authenticated connections (ranks of the current attempt) have
/// their own `maxConnections` slots, which unauthenticated ones never take. Unauthenticated
/// closes are counted, not logged one by one (`onRejectionSummary`). All methods are thread-safe.
public final class ControlServer: Sendable {
    /// The run id every message must carry.
    public let runID: String
    /// Address the listener binds (`0.0.0.0` for every interface).
    public let bindAddress: String
    /// Seconds a connection may go without a complete valid frame before it is closed.
    public let idleTimeout: Double
    /// Authenticated connections allowed at once (one per rank, plus reconnects not yet timed out).
    public let maxConnections: Int
    /// Seconds from the accept within which a connection must send an authenticated message.
    public let handshakeTimeout: Double
    /// Unauthenticated connections held at once; a newer one evicts the oldest.
    public let maxUnauthenticated: Int
    /// Seconds between aggregate reports of closed unauthenticated connections.
    public let summaryInterval: Double
    private let requestedPort: UInt16
    private let shared: ServerShared

    /// A server for `runID` at `attempt`, keyed by `secret`; nothing is bound until `start()`.
    /// `port` 0 picks a free port (read `port` after `start()`). Counts below 1 are taken as 1.
    public init(bindAddress: String = "127.0.0.1", port: UInt16 = 0, runID: String, secret: ControlSecret,
                attempt: Int, idleTimeout: Double = 10, maxConnections: Int = 256,
                handshakeTimeout: Double = 2, maxUnauthenticated: Int = 128, summaryInterval: Double = 10) {
        self.bindAddress = bindAddress
        self.requestedPort = port
        self.runID = runID
        self.idleTimeout = idleTimeout
        self.maxConnections = max(maxConnections, 1)
        self.handshakeTimeout = handshakeTimeout
        self.maxUnauthenticated = max(maxUnauthenticated, 1)
        self.summaryInterval = summaryInterval
        shared = ServerShared(runID: runID, secret: secret, attempt: attempt)
    }

    deinit { stop() }

    /// Seconds on the monotonic clock `RankStatus.lastMessageTime` uses.
    public static func monotonicNow() -> Double { Sock.monotonicNow() }

    /// The port actually bound (0 before `start()`).
    public var port: UInt16 { shared.state.withLock { $0.port } }

    /// The attempt messages must carry. Setting a new value forgets every rank's
    /// status, so a rank of the previous attempt cannot make the new one look healthy.
    public var attempt: Int {
        get { shared.state.withLock { $0.attempt } }
        set {
            shared.state.withLock { state in
                guard state.attempt != newValue else { return }
                state.attempt = newValue
                state.ranks = [:]
                state.routes = [:]
                state.highestSeq = [:]
            }
        }
    }

    /// Handler for accepted messages (see `ControlMessageHandler`); set it before `start()`.
    public var onMessage: ControlMessageHandler? {
        get { shared.state.withLock { $0.onMessage } }
        set { shared.state.withLock { $0.onMessage = newValue } }
    }

    /// Handler for rejections (see `ControlRejectionHandler`); when nil, rejections go to `Log.warning`.
    public var onRejected: ControlRejectionHandler? {
        get { shared.state.withLock { $0.onRejected } }
        set { shared.state.withLock { $0.onRejected = newValue } }
    }

    /// Handler for the periodic aggregate of closed unauthenticated connections
    /// (see `ControlRejectionSummaryHandler`); when nil, it goes to `Log.warning`. Set it before `start()`.
    public var onRejectionSummary: ControlRejectionSummaryHandler? {
        get { shared.state.withLock { $0.onRejectionSummary } }
        set { shared.state.withLock { $0.onRejectionSummary = newValue } }
    }

    /// Unauthenticated connections closed since `start()`, by cause (updated once per poll round).
    public var rejections: ControlRejectionCounts { shared.state.withLock { $0.rejections } }

    /// The longest time, in seconds, a connection took from its accept to its first accepted message.
    public var slowestHandshake: Double { shared.state.withLock { $0.slowestHandshake } }

    /// Binds `bindAddress:port`, listens and starts the I/O thread.
    /// Throws `ControlError.socket`/`.badAddress` naming the address, or `.alreadyRunning`.
    public func start() throws {
        try shared.state.withLock { state throws(ControlError) in
            guard !state.running else { throw .alreadyRunning }
        }
        // A deep backlog (the kernel caps it at somaxconn): the loop drains it every round,
        // and a full one would drop a rank's SYN and cost it a 1 s retransmit.
        let (fd, actualPort) = try Sock.listen(host: bindAddress, port: requestedPort, backlog: 4096)
        let wake: WakePipe
        do { wake = try WakePipe() } catch { Sock.close(fd); throw error }
        let policy = AdmissionPolicy(idleTimeout: idleTimeout, maxAuthenticated: maxConnections,
                                     handshakeTimeout: handshakeTimeout, maxUnauthenticated: maxUnauthenticated,
                                     summaryInterval: summaryInterval)
        let loop = ServerLoop(shared: shared, listener: fd, wake: wake, policy: policy)
        let thread = Thread { loop.run() }
        thread.name = "cohort-control-server"
        let raced = shared.state.withLock { state -> Bool in
            if state.running { return true }
            state.running = true
            state.stopping = false
            state.port = actualPort
            state.wake = wake
            state.done = loop.done
            state.thread = ObjectIdentifier(thread)
            return false
        }
        if raced { Sock.close(fd); throw ControlError.alreadyRunning }
        thread.start()
    }

    /// Stops the I/O thread and closes the listener and every connection. Idempotent.
    /// Called from a handler (on the I/O thread) it returns at once and the thread ends after the handler.
    public func stop() {
        let parts = shared.state.withLock { state -> (WakePipe, DispatchSemaphore, ObjectIdentifier)? in
            guard state.running, !state.stopping, let wake = state.wake, let done = state.done,
                  let thread = state.thread else { return nil }
            state.stopping = true
            return (wake, done, thread)
        }
        guard let (wake, done, thread) = parts else { return }
        wake.signal()
        if ObjectIdentifier(Thread.current) != thread { _ = done.wait(timeout: .now() + 10) }
    }

    /// Queues a `command` message (`detail` = `command`) to the connection on which
    /// `rank` last sent an accepted message. Throws `ControlError.noConnection` if
    /// there is none open, `.notRunning` if the server is stopped.
    /// Throws `.commandQueueFull` if the I/O thread is 1024 commands behind.
    /// Delivery is not confirmed: the connection may close before the bytes leave.
    public func send(command: String, toRank rank: Int) throws {
        let wake = try shared.state.withLock { state throws(ControlError) -> WakePipe in
            guard state.running, !state.stopping, let wake = state.wake else { throw .notRunning }
            guard let connection = state.routes[rank] else { throw .noConnection(rank: rank) }
            guard state.outbox.count < 1024 else { throw .commandQueueFull(rank: rank) }
            state.outbox.append((connection, command))
            return wake
        }
        wake.signal()
    }

    /// Every rank heard from in the current attempt, in rank order.
    public func snapshot() -> [RankStatus] {
        let now = Sock.monotonicNow()
        return shared.state.withLock { state in
            state.ranks.keys.sorted().map { rank in
                var status = state.ranks[rank]!
                status.secondsSinceLastMessage = now - status.lastMessageTime
                status.connected = state.routes[rank] != nil
                return status
            }
        }
    }

    /// What the coordinator last heard from `rank`, or nil if nothing in this attempt.
    public func status(ofRank rank: Int) -> RankStatus? {
        snapshot().first { $0.rank == rank }
    }
}

/// State shared between the public API and the I/O thread, behind one lock.
struct ServerState {
    var attempt: Int
    var running = false
    var stopping = false
    var port: UInt16 = 0
    var wake: WakePipe?
    var done: DispatchSemaphore?
    /// Identifies the I/O thread, so `stop()` from a handler does not wait for itself.
    var thread: ObjectIdentifier?
    var onMessage: ControlMessageHandler?
    var onRejected: ControlRejectionHandler?
    var onRejectionSummary: ControlRejectionSummaryHandler?
    var rejections = ControlRejectionCounts()
    var slowestHandshake = 0.0
    var ranks: [Int: RankStatus] = [:]
    /// rank → id of the connection its last accepted message came on (removed when it closes).
    var routes: [Int: Int] = [:]
    /// Highest accepted seq per rank in this attempt, across connections: a frame
    /// captured on one connection cannot be replayed on a fresh one.
    var highestSeq: [Int: UInt64] = [:]
    var outbox: [(connection: Int, command: String)] = []
}

final class ServerShared: Sendable {
    let runID: String
    let secret: ControlSecret
    let state: Mutex<ServerState>

    init(runID: String, secret: ControlSecret, attempt: Int) {
        self.runID = runID
        self.secret = secret
        state = Mutex(ServerState(attempt: attempt))
    }

    /// Reports a rejection through `onRejected`, or `Log.warning` without one.
    func reject(_ reason: String, peer: String) {
        if let handler = state.withLock({ $0.onRejected }) {
            handler(reason, peer)
        } else {
            Log.warning("control channel: closed \(peer): \(reason)")
        }
    }

    /// Reports closed unauthenticated connections through `onRejectionSummary`, or `Log.warning` without one.
    func summarize(_ counts: ControlRejectionCounts, seconds: Double) {
        if let handler = state.withLock({ $0.onRejectionSummary }) {
            handler(counts, seconds)
        } else {
            Log.warning("control channel: closed \(counts.total) unauthenticated connections in \(Int(seconds.rounded())) s (\(counts))")
        }
    }
}
