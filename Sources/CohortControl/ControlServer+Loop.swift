// The server's I/O thread: one poll() over a wake pipe, the listener and every
// connection. Everything here is owned by that thread; it meets the public API
// only through `ServerShared` (a lock) and the wake pipe. Admission policy
// (handshake deadline, unauthenticated slots, eviction): `ControlServer`'s doc.
import Dispatch

/// The limits the I/O thread enforces (`ControlServer`'s settings).
struct AdmissionPolicy {
    var idleTimeout: Double
    var maxAuthenticated: Int
    var handshakeTimeout: Double
    var maxUnauthenticated: Int
    var summaryInterval: Double
}

/// One accepted connection, owned by the I/O thread.
final class ServerConnection {
    let id: Int
    let fd: Int32
    let peer: String
    var decoder: ControlFrameDecoder
    /// Bytes queued for the peer; `outOffset` of them already sent.
    var out: [UInt8] = []
    var outOffset = 0
    /// Monotonic time of the accept.
    let accepted: Double
    /// Monotonic time of the last complete valid frame (or of the accept).
    var lastValid: Double
    var lastSeq: UInt64?
    /// The rank the first accepted message named; later ones must agree.
    /// Nil until then: the connection is unauthenticated.
    var rank: Int?
    var closed = false

    init(id: Int, fd: Int32, peer: String, secret: ControlSecret, now: Double) {
        self.id = id
        self.fd = fd
        self.peer = peer
        decoder = ControlFrameDecoder(secret: secret)
        accepted = now
        lastValid = now
    }
}

/// Runs the server's poll loop. `@unchecked Sendable` only so `Thread` can take it:
/// after `run()` begins, no other thread touches its variables.
final class ServerLoop: @unchecked Sendable {
    /// Largest backlog of unsent bytes to one peer before it counts as not reading.
    static let maxOutgoingBytes = 256 * 1024

    /// Connections accepted per round at most, so reads are never starved by accepts.
    static let acceptBatch = 512

    let shared: ServerShared
    let listener: Int32
    let wake: WakePipe
    let policy: AdmissionPolicy
    /// Signalled when `run()` has closed everything.
    let done = DispatchSemaphore(value: 0)

    /// In accept order, so the first unauthenticated one is the oldest.
    private var connections: [ServerConnection] = []
    /// Open connections without / with an accepted message.
    private var unauthenticatedCount = 0
    private var authenticatedCount = 0
    /// Index in `connections` before which no connection is open and unauthenticated
    /// (eviction resumes there; reset when `connections` is compacted).
    private var evictionCursor = 0
    private var counts = ControlRejectionCounts()
    private var summarized = ControlRejectionCounts()
    private var lastSummary: Double
    private var slowestHandshake = 0.0
    private var nextID = 1
    private var seq = ControlMessage.initialSeq()
    private var scratch = [UInt8](repeating: 0, count: 65536)
    /// After accept fails (e.g. out of descriptors) the listener is left alone briefly, or poll would spin.
    private var acceptPausedUntil = 0.0

    init(shared: ServerShared, listener: Int32, wake: WakePipe, policy: AdmissionPolicy) {
        self.shared = shared
        self.listener = listener
        self.wake = wake
        self.policy = policy
        lastSummary = Sock.monotonicNow()
    }

    func run() {
        while !shared.state.withLock({ $0.stopping }) {
            let now = Sock.monotonicNow()
            var entries = [PollEntry(fd: wake.readFD, read: true)]
            let watchListener = now >= acceptPausedUntil
            if watchListener { entries.append(PollEntry(fd: listener, read: true)) }
            let first = entries.count
            let polled = connections
            for c in polled { entries.append(PollEntry(fd: c.fd, read: true, write: c.outOffset < c.out.count)) }
            Sock.poll(&entries, timeout: nextTimeout(now: now))

            if entries[0].readable { wake.drain() }
            sendQueuedCommands()
            for (i, c) in polled.enumerated() where !c.closed {
                let e = entries[first + i]
                if e.readable || e.broken { receive(c) }
                if !c.closed && e.writable { flush(c) }
            }
            if watchListener && entries[1].readable { acceptPending() }
            closeIdle(now: Sock.monotonicNow())
            connections.removeAll { $0.closed }
            evictionCursor = 0
            publish(now: Sock.monotonicNow(), final: false)
        }
        for c in connections { close(c, reason: nil) }
        connections = []
        Sock.close(listener)
        publish(now: Sock.monotonicNow(), final: true)
        shared.state.withLock { state in
            state.running = false
            state.stopping = false
            state.wake = nil
            state.done = nil
            state.thread = nil
            state.port = 0
            state.outbox = []
        }
        done.signal()
    }

    /// Until the earliest handshake, idle or summary deadline, at most 1 s (so `stopping` is seen even if a wake is lost).
    private func nextTimeout(now: Double) -> Double {
        var timeout = 1.0
        if now < acceptPausedUntil { timeout = min(timeout, acceptPausedUntil - now) }
        if counts != summarized { timeout = min(timeout, lastSummary + policy.summaryInterval - now) }
        for c in connections {
            let deadline = c.rank == nil ? c.accepted + policy.handshakeTimeout : c.lastValid + policy.idleTimeout
            timeout = min(timeout, deadline - now)
        }
        return max(timeout, 0.001)
    }

    /// Accepts everything pending (up to `acceptBatch`), so the kernel's backlog never fills and
    /// drops a rank's connect. Each new connection is read at once: a rank's hello is usually there
    /// already (it waited in the backlog behind the flood), and authenticates it before any eviction.
    private func acceptPending() {
        for _ in 0..<Self.acceptBatch {
            let accepted: (fd: Int32, peer: String)?
            do { accepted = try Sock.accept(listener) } catch {
                acceptPausedUntil = Sock.monotonicNow() + 0.1
                shared.reject("\(error)", peer: "listener")
                return
            }
            guard let (fd, peer) = accepted else { return }
            let c = ServerConnection(id: nextID, fd: fd, peer: peer, secret: shared.secret, now: Sock.monotonicNow())
            nextID += 1
            connections.append(c)
            unauthenticatedCount += 1
            receive(c)
            if unauthenticatedCount > policy.maxUnauthenticated { evictOldestUnauthenticated() }
        }
    }

    /// Closes the oldest open unauthenticated connection (never the newest: `maxUnauthenticated` ≥ 1).
    private func evictOldestUnauthenticated() {
        while evictionCursor < connections.count {
            let c = connections[evictionCursor]
            evictionCursor += 1
            if !c.closed && c.rank == nil {
                discard(c, counting: \.slotsFull)
                return
            }
        }
    }

    /// Publishes the counters to the public API and, once per `summaryInterval` (or when
    /// stopping), reports the unauthenticated connections closed since the last report.
    private func publish(now: Double, final: Bool) {
        let slowest = slowestHandshake
        let current = counts
        shared.state.withLock { state in
            state.rejections = current
            state.slowestHandshake = slowest
        }
        guard final || now - lastSummary >= policy.summaryInterval else { return }
        let delta = counts.subtracting(summarized)
        if delta.total > 0 { shared.summarize(delta, seconds: now - lastSummary) }
        summarized = counts
        lastSummary = now
    }

    private func receive(_ c: ServerConnection) {
        switch Sock.read(c.fd, into: &scratch) {
        case .wouldBlock:
            return
        case .eof:
            if c.rank == nil { discard(c, counting: \.closedEarly); return }
            let pending = c.decoder.bufferedCount
            close(c, reason: pending > 0 ? "closed mid-frame with \(pending) bytes pending" : nil)
            return
        case let .failed(message):
            if c.rank == nil { discard(c, counting: \.closedEarly); return }
            let pending = c.decoder.bufferedCount
            close(c, reason: pending > 0 ? "read failed mid-frame: \(message)" : nil)
            return
        case let .data(n):
            c.decoder.append(scratch[0..<n])
        }
        while !c.closed {
            let payload: [UInt8]?
            do { payload = try c.decoder.next() } catch {
                if c.rank == nil { discard(c, counting: \.badFrame) } else { close(c, reason: error.description) }
                return
            }
            guard let payload else { return }
            handle(payload, on: c)
        }
    }

    /// Checks one authenticated payload; accepts it (updating the rank's status) or closes the connection.
    private func handle(_ payload: [UInt8], on c: ServerConnection) {
        let message: ControlMessage
        do { message = try ControlMessage(payload: payload) } catch {
            close(c, reason: "undecodable message: \(String(describing: error).prefix(200))")
            return
        }
        if message.rank < 0 || message.kind == .command {
            close(c, reason: "rank \(message.rank) sent kind \(message.kind.rawValue): only the coordinator sends commands")
            return
        }
        if let bound = c.rank, bound != message.rank {
            close(c, reason: "rank changed from \(bound) to \(message.rank) on one connection")
            return
        }
        if let last = c.lastSeq, message.seq <= last {
            close(c, reason: "replayed or reordered seq \(message.seq) from rank \(message.rank) (last accepted \(last))")
            return
        }
        if c.rank == nil && authenticatedCount >= policy.maxAuthenticated {
            close(c, reason: "refused rank \(message.rank): \(policy.maxAuthenticated) authenticated connections already open")
            return
        }
        let now = Sock.monotonicNow()
        let runID = shared.runID
        let verdict = shared.state.withLock { state -> Result<ControlMessageHandler?, RejectReason> in
            guard message.run == runID else { return .failure(.init("run id \"\(message.run.prefix(80))\" is not this run's")) }
            guard message.attempt == state.attempt else {
                return .failure(.init("stale attempt \(message.attempt) from rank \(message.rank) (current attempt \(state.attempt))"))
            }
            if let highest = state.highestSeq[message.rank], message.seq <= highest {
                return .failure(.init("replayed seq \(message.seq) from rank \(message.rank) (highest accepted \(highest))"))
            }
            state.highestSeq[message.rank] = message.seq
            let previous = state.ranks[message.rank]
            state.ranks[message.rank] = RankStatus(
                rank: message.rank, lastKind: message.kind, lastStep: message.step ?? previous?.lastStep,
                lastDetail: message.detail ?? previous?.lastDetail, lastMessageTime: now,
                secondsSinceLastMessage: 0, connected: true, peer: c.peer)
            state.routes[message.rank] = c.id
            return .success(state.onMessage)
        }
        switch verdict {
        case let .failure(reason):
            close(c, reason: reason.text)
        case let .success(handler):
            if c.rank == nil {
                unauthenticatedCount -= 1
                authenticatedCount += 1
                slowestHandshake = max(slowestHandshake, now - c.accepted)
            }
            c.lastValid = now
            c.lastSeq = message.seq
            c.rank = message.rank
            handler?(message, c.peer)
        }
    }

    private func sendQueuedCommands() {
        let (queued, attempt) = shared.state.withLock { state in
            defer { state.outbox = [] }
            return (state.outbox, state.attempt)
        }
        for (id, command) in queued {
            guard let c = connections.first(where: { $0.id == id && !$0.closed }) else { continue }
            seq += 1
            let message = ControlMessage(run: shared.runID, attempt: attempt, rank: ControlMessage.coordinatorRank,
                                         seq: seq, kind: .command, detail: command)
            guard let frame = try? ControlFrame.encode(message, secret: shared.secret) else {
                shared.reject("command \"\(command.prefix(80))\" does not fit in a frame; not sent", peer: c.peer)
                continue
            }
            if c.outOffset > 0 {
                c.out.removeFirst(c.outOffset)
                c.outOffset = 0
            }
            guard c.out.count + frame.count <= Self.maxOutgoingBytes else {
                close(c, reason: "peer is not reading: more than \(Self.maxOutgoingBytes) bytes queued")
                continue
            }
            c.out.append(contentsOf: frame)
            flush(c)
        }
    }

    private func flush(_ c: ServerConnection) {
        while c.outOffset < c.out.count {
            switch Sock.write(c.fd, c.out, from: c.outOffset) {
            case let .wrote(n): c.outOffset += n
            case .wouldBlock: return
            case .failed: close(c, reason: nil); return
            }
        }
        c.out = []
        c.outOffset = 0
    }

    private func closeIdle(now: Double) {
        for c in connections where !c.closed {
            if c.rank == nil {
                if now - c.accepted > policy.handshakeTimeout { discard(c, counting: \.handshakeTimeout) }
            } else if now - c.lastValid > policy.idleTimeout {
                close(c, reason: "no valid frame for \(policy.idleTimeout) s")
            }
        }
    }

    /// Closes an unauthenticated connection, counting it under `cause` (no per-connection report).
    private func discard(_ c: ServerConnection, counting cause: WritableKeyPath<ControlRejectionCounts, Int>) {
        guard !c.closed else { return }
        counts[keyPath: cause] += 1
        close(c, reason: nil)
    }

    /// Closes the socket, marks the rank disconnected, and reports `reason` if there is one.
    private func close(_ c: ServerConnection, reason: String?) {
        guard !c.closed else { return }
        c.closed = true
        Sock.close(c.fd)
        if c.rank == nil { unauthenticatedCount -= 1 } else { authenticatedCount -= 1 }
        // Reported before the route goes: whoever sees the rank disconnected (a `send` to it
        // failing) also finds the reason reported.
        if let reason { shared.reject(reason, peer: c.peer) }
        if let rank = c.rank {
            shared.state.withLock { state in
                if state.routes[rank] == c.id { state.routes[rank] = nil }
            }
        }
    }
}

struct RejectReason: Error {
    let text: String
    init(_ text: String) { self.text = text }
}
