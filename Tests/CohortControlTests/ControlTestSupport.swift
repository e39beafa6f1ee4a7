// Helpers for the socket tests: a raw TCP peer that sends exactly the bytes a
// test chooses (no client logic), a thread-safe recorder for server callbacks,
// and polling for a condition with a deadline.
import Foundation
import Synchronization
@testable import CohortControl

/// Polls `condition` every 10 ms for up to `timeout` seconds.
func eventually(_ timeout: Double = 5, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 10_000_000)
    }
    return condition()
}

/// Polls `condition` every 10 ms for up to `timeout` seconds on the calling thread, never
/// suspending: timing tests that `await` can be starved for seconds when the other suites
/// of `swift test` occupy the cooperative pool of a 2-core machine.
func eventuallyBlocking(_ timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}

/// Records what a server's handlers saw.
final class Recorder: Sendable {
    let messages = Mutex<[ControlMessage]>([])
    let rejections = Mutex<[String]>([])
    let summaries = Mutex<[(counts: ControlRejectionCounts, seconds: Double)]>([])

    func attach(to server: ControlServer) {
        server.onMessage = { [self] m, _ in messages.withLock { $0.append(m) } }
        server.onRejected = { [self] reason, _ in rejections.withLock { $0.append(reason) } }
        server.onRejectionSummary = { [self] counts, seconds in summaries.withLock { $0.append((counts, seconds)) } }
    }

    /// The sum of every summary so far.
    var summarized: ControlRejectionCounts {
        summaries.withLock { list in
            var sum = ControlRejectionCounts()
            for (c, _) in list {
                sum.handshakeTimeout += c.handshakeTimeout
                sum.slotsFull += c.slotsFull
                sum.badFrame += c.badFrame
                sum.closedEarly += c.closedEarly
            }
            return sum
        }
    }

    var messageCount: Int { messages.withLock { $0.count } }
    var rejectionCount: Int { rejections.withLock { $0.count } }
    func rejections(containing text: String) -> Int { rejections.withLock { $0.filter { $0.contains(text) }.count } }
}

/// A TCP connection that sends raw bytes: for frames a real client would never send.
final class RawPeer {
    let fd: Int32
    private let wake: WakePipe
    private(set) var isClosed = false

    init(port: UInt16) throws {
        wake = try WakePipe()
        fd = try Sock.connect(host: "127.0.0.1", port: port, timeout: 2, wakeFD: wake.readFD, shouldStop: { false })
    }

    /// Wraps an accepted socket.
    init(accepted fd: Int32) throws {
        wake = try WakePipe()
        self.fd = fd
    }

    /// Writes all of `bytes` (waiting for buffer space); false if the connection failed.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            switch Sock.write(fd, bytes, from: offset) {
            case let .wrote(n): offset += n
            case .wouldBlock:
                var entries = [PollEntry(fd: fd, read: false, write: true)]
                Sock.poll(&entries, timeout: 0.1)
            case .failed: return false
            }
        }
        return true
    }

    /// Reads whatever is pending; true once the server has closed the connection.
    func serverClosed() -> Bool {
        var scratch = [UInt8](repeating: 0, count: 4096)
        while true {
            switch Sock.read(fd, into: &scratch) {
            case .data: continue
            case .wouldBlock: return false
            case .eof, .failed: return true
            }
        }
    }

    /// Everything received so far, as verified payloads.
    func receivedPayloads(secret: ControlSecret) -> [[UInt8]] {
        var decoder = ControlFrameDecoder(secret: secret)
        var scratch = [UInt8](repeating: 0, count: 65536)
        while case let .data(n) = Sock.read(fd, into: &scratch) { decoder.append(scratch[0..<n]) }
        var out: [[UInt8]] = []
        while let p = try? decoder.next() { out.append(p) }
        return out
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        Sock.close(fd)
    }

    deinit { close() }
}

/// A listener standing in for the coordinator, to send a client frames the real server never would.
final class FakeCoordinator {
    let fd: Int32
    let port: UInt16

    init() throws { (fd, port) = try Sock.listen(host: "127.0.0.1", port: 0, backlog: 8) }

    /// The next connection within `timeout` seconds.
    func accept(timeout: Double = 3) async throws -> RawPeer? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let (peer, _) = try Sock.accept(fd) { return try RawPeer(accepted: peer) }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        return nil
    }

    deinit { Sock.close(fd) }
}
