// The server's I/O thread: one poll() over a wake pipe, the listener and every
// connection. Everything here is owned by that thread; it meets the public API
// only through `ServerShared` (a lock) and the wake pipe.
import Dispatch

/// One accepted connection, owned by the I/O thread.
final class ServerConnection {
    let id: Int
    let fd: Int32
    let peer: String
    var decoder: ControlFrameDecoder
    /// Bytes queued for the peer; `outOffset` of them already sent.
    var out: [UInt8] = []
    var outOffset = 0
    /// Monotonic time of the last complete valid frame (or of the accept).
    var lastValid: Double
    var lastSeq: UInt64?
    /// The rank the first accepted message named; later ones must agree.
    var rank: Int?
    var closed = false

    init(id: Int, fd: Int32, peer: String, secret: ControlSecret, now: Double) {
        self.id = id
        self.fd = fd
        self.peer = peer
        decoder = ControlFrameDecoder(secret: secret)
        lastValid = now
    }
}

/// Runs the server's poll loop. `@unchecked Sendable` only so `Thread` can take it:
/// after `run()` begins, no other thread touches its variables.
final class ServerLoop: @unchecked Sendable {
    /// Largest backlog of unsent bytes to one peer before it counts as not reading.
    static let maxOutgoingBytes = 256 * 1024

    let shared: ServerShared
    let listener: Int32
    let wake: WakePipe
    let idleTimeout: Double
    let maxConnections: Int
    /// Signalled when `run()` has closed everything.
    let done = DispatchSemaphore(value: 0)

    private var connections: [ServerConnection] = []
    private var nextID = 1
    private var seq = ControlMessage.initialSeq()
    private var scratch = [UInt8](repeating: 0, count: 65536)
    /// After accept fails (e.g. out of descriptors) the listener is left alone briefly, or poll would spin.
    private var acceptPausedUntil = 0.0

    init(shared: ServerShared, listener: Int32, wake: WakePipe, idleTimeout: Double, maxConnections: Int) {
        self.shared = shared
        self.listener = listener
        self.wake = wake
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
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
        }
        for c in connections { close(c, reason: nil) }
        connections = []
        Sock.close(listener)
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

    /// Until the earliest idle deadline, at most 1 s (so `stopping` is seen even if a wake is lost).
    private func nextTimeout(now: Double) -> Double {
        var timeout = 1.0
        if now < acceptPausedUntil { timeout = min(timeout, acceptPausedUntil - now) }
        for c in connections { timeout = min(timeout, c.lastValid + idleTimeout - now) }
        return max(timeout, 0.001)
    }

    private func acceptPending() {
        // Bounded per round so a connection flood cannot starve the open connections.
        for _ in 0..<512 {
            let accepted: (fd: Int32, peer: String)?
            do { accepted = try Sock.accept(listener) } catch {
                acceptPausedUntil = Sock.monotonicNow() + 0.1
                shared.reject("\(error)", peer: "listener")
                return
            }
            guard let (fd, peer) = accepted else { return }
            guard connections.count < maxConnections else {
                Sock.close(fd)
                shared.reject("refused: \(maxConnections) connections already open", peer: peer)
                continue
            }
            connections.append(ServerConnection(id: nextID, fd: fd, peer: peer, secret: shared.secret,
                                                now: Sock.monotonicNow()))
            nextID += 1
        }
    }

    private func receive(_ c: ServerConnection) {
        switch Sock.read(c.fd, into: &scratch) {
        case .wouldBlock:
            return
        case .eof:
            let pending = c.decoder.bufferedCount
            close(c, reason: pending > 0 ? "closed mid-frame with \(pending) bytes pending" : nil)
            return
        case let .failed(message):
            let pending = c.decoder.bufferedCount
            close(c, reason: pending > 0 ? "read failed mid-frame: \(message)" : nil)
            return
        case let .data(n):
            c.decoder.append(scratch[0..<n])
        }
        while !c.closed {
            let payload: [UInt8]?
            do { payload = try c.decoder.next() } catch {
                close(c, reason: error.description)
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
        for c in connections where !c.closed && now - c.lastValid > idleTimeout {
            close(c, reason: "no valid frame for \(idleTimeout) s")
        }
    }

    /// Closes the socket, marks the rank disconnected, and reports `reason` if there is one.
    private func close(_ c: ServerConnection, reason: String?) {
        guard !c.closed else { return }
        c.closed = true
        Sock.close(c.fd)
        if let rank = c.rank {
            shared.state.withLock { state in
                if state.routes[rank] == c.id { state.routes[rank] = nil }
            }
        }
        if let reason { shared.reject(reason, peer: c.peer) }
    }
}

struct RejectReason: Error {
    let text: String
    init(_ text: String) { self.text = text }
}
