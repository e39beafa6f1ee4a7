// The client's background thread: connect with back-off, then one poll() loop
// per connection that writes hello, events and heartbeats and reads commands.
// Events not fully written when a connection drops go out again on the next.
import Dispatch
import Foundation

/// Runs the client's thread. `@unchecked Sendable` only so `Thread` can take it:
/// after `run()` begins, no other thread touches its variables.
final class ClientSession: @unchecked Sendable {
    /// Unsent bytes allowed before the coordinator counts as not reading (connection dropped).
    static let maxOutgoingBytes = 256 * 1024
    static let connectTimeout = 2.0
    static let minBackoff = 0.05
    static let maxBackoff = 1.0

    let core: ClientCore
    let wake: WakePipe
    let interval: Double
    /// Signalled when `run()` returns.
    let done = DispatchSemaphore(value: 0)

    /// Continues across connections, so a frame cannot be replayed on a new connection.
    private var seq = ControlMessage.initialSeq()
    private var scratch = [UInt8](repeating: 0, count: 65536)

    init(core: ClientCore, wake: WakePipe, interval: Double) {
        self.core = core
        self.wake = wake
        self.interval = interval
    }

    func run() {
        var backoff = Self.minBackoff
        while !core.isStopping {
            let fd: Int32
            do {
                fd = try Sock.connect(host: core.address.host, port: core.address.port, timeout: Self.connectTimeout,
                                      wakeFD: wake.readFD, shouldStop: { [core] in core.isStopping })
            } catch {
                wake.wait(backoff)
                backoff = min(backoff * 2, Self.maxBackoff)
                continue
            }
            core.state.withLock { $0.connected = true }
            let opened = Sock.monotonicNow()
            converse(fd)
            Sock.close(fd)
            core.state.withLock { $0.connected = false }
            // A connection the coordinator closes at once (refused, stale attempt) must not become a reconnect storm.
            if Sock.monotonicNow() - opened > max(5, 2 * interval) {
                backoff = Self.minBackoff
            } else {
                wake.wait(backoff)
                backoff = min(backoff * 2, Self.maxBackoff)
            }
        }
        core.state.withLock { state in
            state.running = false
            state.stopping = false
            state.connected = false
            state.wake = nil
            state.done = nil
        }
        done.signal()
    }

    private func message(_ kind: ControlMessage.Kind, step: Int?, detail: String? = nil,
                         time: Double = Date().timeIntervalSince1970) -> [UInt8]? {
        seq += 1
        let m = ControlMessage(run: core.runID, attempt: core.attempt, rank: core.rank, seq: seq, kind: kind,
                               step: step, detail: detail, time: time)
        return try? ControlFrame.encode(m, secret: core.secret)
    }

    /// Serves one connection until it fails, the coordinator misbehaves, or `stop()`.
    private func converse(_ fd: Int32) {
        var decoder = ControlFrameDecoder(secret: core.secret)
        var out: [UInt8] = []
        var outOffset = 0
        // Events whose frames are in `out`, with the offset at which each one's frame ends.
        var inflight: [(event: PendingEvent, end: Int)] = []
        defer {
            // Put back what did not reach the kernel, ahead of anything queued since.
            if !inflight.isEmpty {
                let events = inflight.map(\.event)
                core.state.withLock { $0.events.insert(contentsOf: events, at: 0) }
            }
        }
        func append(_ frame: [UInt8]?) { if let frame { out.append(contentsOf: frame) } }

        append(message(.hello, step: core.currentStep))
        var nextBeat = Sock.monotonicNow() + interval
        while true {
            if core.isStopping { return }
            let events = core.state.withLock { state in
                defer { state.events = [] }
                return state.events
            }
            for event in events {
                append(message(event.kind, step: event.step, detail: event.detail, time: event.time))
                inflight.append((event, out.count))
            }
            let now = Sock.monotonicNow()
            if now >= nextBeat {
                // Skip a beat while earlier bytes are still unsent: heartbeats must not pile up.
                if outOffset == out.count { append(message(.heartbeat, step: core.currentStep)) }
                nextBeat = now + interval
            }
            if out.count - outOffset > Self.maxOutgoingBytes { return }

            writing: while outOffset < out.count {
                switch Sock.write(fd, out, from: outOffset) {
                case let .wrote(n): outOffset += n
                case .wouldBlock: break writing
                case .failed: return
                }
            }
            if let last = inflight.last(where: { $0.end <= outOffset }) {
                core.flushed.markWritten(through: last.event.id)
                inflight.removeAll { $0.end <= outOffset }
            }
            if outOffset == out.count {
                out.removeAll(keepingCapacity: true)
                outOffset = 0
            } else if outOffset >= 64 * 1024 {
                // A peer that keeps lagging never drains `out`; drop the sent prefix so it stays bounded.
                out.removeFirst(outOffset)
                for i in inflight.indices { inflight[i].end -= outOffset }
                outOffset = 0
            }

            var entries = [PollEntry(fd: fd, read: true, write: outOffset < out.count), PollEntry(fd: wake.readFD, read: true)]
            Sock.poll(&entries, timeout: nextBeat - Sock.monotonicNow())
            if entries[1].readable { wake.drain() }
            if entries[0].readable || entries[0].broken {
                switch Sock.read(fd, into: &scratch) {
                case .wouldBlock: break
                case .eof, .failed: return
                case let .data(n):
                    decoder.append(scratch[0..<n])
                    guard acceptCommands(from: &decoder) else { return }
                }
            }
        }
    }

    /// Takes every complete frame; false (drop the connection) on the first that fails a check.
    private func acceptCommands(from decoder: inout ControlFrameDecoder) -> Bool {
        while true {
            let payload: [UInt8]?
            do { payload = try decoder.next() } catch { return false }
            guard let payload else { return true }
            guard let m = try? ControlMessage(payload: payload), m.run == core.runID, m.attempt == core.attempt,
                  m.rank == ControlMessage.coordinatorRank, m.kind == .command, let command = m.detail else { return false }
            let fresh = core.state.withLock { state -> Bool in
                guard m.seq > state.lastServerSeq else { return false }
                state.lastServerSeq = m.seq
                state.command = command
                return true
            }
            guard fresh else { return false }
        }
    }
}
