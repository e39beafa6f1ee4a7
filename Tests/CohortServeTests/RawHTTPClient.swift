// A blocking HTTP/1.1 client on plain sockets, for tests that must tell apart what URLSession
// hides: a refused connection, a connection closed before any answer byte, a truncated answer.
// Also the slowloris clients of the fuzz: connections that send part of a request, then stall or trickle.
import Foundation

/// How one request ended.
enum RawOutcome: Equatable {
    /// A complete answer with this status.
    case status(Int)
    /// `connect` was refused (nothing listens).
    case refused
    /// The connection closed (or reset) before any byte of an answer.
    case closedBeforeAnswer
    /// Part of an answer, then the connection closed.
    case truncated
}

/// One keep-alive connection to 127.0.0.1:`port` (reconnects when the server closed it).
final class RawHTTPConnection {
    let port: Int
    private var fd: Int32 = -1

    init(port: Int) { self.port = port }
    deinit { if fd >= 0 { close(fd) } }

    /// A connected socket (10 s receive timeout), or nil when the connection is refused.
    static func connectSocket(port: Int) -> Int32? {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { return nil }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(s, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if ok != 0 { close(s); return nil }
        return s
    }

    /// The request bytes of a POST of `body` to `path`.
    static func post(_ path: String, _ body: [UInt8]) -> [UInt8] {
        Array("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    }

    /// Sends `bytes` in full (no SIGPIPE); false when the connection is gone.
    static func sendAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>) -> Bool {
        var sent = bytes.startIndex
        while sent < bytes.endIndex {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// Reads one answer on `fd`: its status and body, or how it failed.
    static func readAnswer(_ fd: Int32) -> (RawOutcome, [UInt8], Bool) {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 << 10)
        var headerEnd: Int?
        var length = 0, status = 0, closeAfter = false
        while true {
            if let end = headerEnd, data.count >= end + length {
                return (.status(status), Array(data[end..<end + length]), closeAfter)
            }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return (data.isEmpty ? .closedBeforeAnswer : .truncated, [], true) }
            data += buffer[0..<n]
            if headerEnd == nil, let r = findHeaderEnd(data) {
                headerEnd = r
                let head = String(decoding: data[0..<r], as: UTF8.self).lowercased()
                let lines = head.split(separator: "\r\n")
                status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
                for line in lines.dropFirst() {
                    if line.hasPrefix("content-length:") { length = Int(line.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0 }
                    if line.hasPrefix("connection:") && line.contains("close") { closeAfter = true }
                }
            }
        }
    }

    private static func findHeaderEnd(_ d: [UInt8]) -> Int? {
        guard d.count >= 4 else { return nil }
        for i in 0...(d.count - 4) where d[i] == 13 && d[i + 1] == 10 && d[i + 2] == 13 && d[i + 3] == 10 { return i + 4 }
        return nil
    }

    /// POSTs `body` to `path` on this connection (connecting first when needed).
    func post(_ path: String, _ body: [UInt8]) -> (RawOutcome, [UInt8]) {
        if fd < 0 {
            guard let s = Self.connectSocket(port: port) else { return (.refused, []) }
            fd = s
        }
        guard Self.sendAll(fd, Self.post(path, body)[...]) else { close(fd); fd = -1; return (.closedBeforeAnswer, []) }
        let (outcome, answer, closeAfter) = Self.readAnswer(fd)
        if closeAfter { close(fd); fd = -1 }
        return (outcome, answer)
    }
}

/// Slowloris-style connections: each sends a request's headers and part of its body, then either
/// nothing (stalled) or one more byte every 100 ms (trickling: activity an idle timeout alone
/// never ends). A background thread trickles and notes when the server closed each one.
final class SlowClients: @unchecked Sendable {
    private struct Slow { let fd: Int32; let trickles: Bool; let opened: Date; var closed: Date? }
    private let lock = NSLock()
    private var slow: [Slow] = []
    private var stopping = false
    private var thread: Thread?

    init() {
        let t = Thread { [unowned self] in
            while !lock.withLock({ stopping }) {
                poll()
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        thread = t
        t.start()
    }

    /// Opens a slow request to `path` on 127.0.0.1:`port` that sends `prefix` of the bytes of `request`.
    func open(port: Int, request: [UInt8], prefix: Int, trickles: Bool) throws {
        guard let fd = RawHTTPConnection.connectSocket(port: port) else { throw POSIXError(.ECONNREFUSED) }
        _ = RawHTTPConnection.sendAll(fd, request[0..<min(prefix, request.count)])
        lock.withLock { slow.append(Slow(fd: fd, trickles: trickles, opened: Date(), closed: nil)) }
    }

    /// Connections opened, stalled ones and trickling ones still open.
    var counts: (opened: Int, open: Int, openTrickling: Int) {
        lock.withLock { (slow.count, slow.filter { $0.closed == nil }.count, slow.filter { $0.closed == nil && $0.trickles }.count) }
    }

    /// Waits until the server closed every connection (or `timeout` s passed); whether it did.
    func waitAllClosed(timeout: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if counts.open == 0 { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return counts.open == 0
    }

    /// Stops the thread and closes every socket.
    func stop() {
        lock.withLock { stopping = true }
        while thread?.isFinished == false { Thread.sleep(forTimeInterval: 0.05) }
        lock.withLock { slow.forEach { close($0.fd) } ; slow.removeAll() }
    }

    private func poll() {
        lock.withLock {
            var buffer = [UInt8](repeating: 0, count: 4096)
            for i in slow.indices where slow[i].closed == nil {
                var gone = false
                while true {   // drain: an error answer may come before the close
                    let n = recv(slow[i].fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                    if n > 0 { continue }
                    gone = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)
                    break
                }
                if !gone && slow[i].trickles {
                    var byte: UInt8 = 0x20   // JSON whitespace: the body stays valid so far
                    gone = send(slow[i].fd, &byte, 1, Int32(MSG_NOSIGNAL)) <= 0
                }
                if gone { slow[i].closed = Date() }
            }
        }
    }
}

/// `clients` threads, each POSTing `body` to `path` back to back on its own keep-alive connection
/// (reconnecting when the server closes it, pausing 10 ms after a refused connect) until `stop()`.
final class LoadClients: @unchecked Sendable {
    private let lock = NSLock()
    private var outcomes: [RawOutcome] = []
    private var badAnswers: [String] = []
    private var stopping = false
    private var threads: [Thread] = []

    init(port: Int, path: String, body: [UInt8], clients: Int) {
        for _ in 0..<clients {
            let t = Thread { [self] in
                let connection = RawHTTPConnection(port: port)
                while !lock.withLock({ stopping }) {
                    let (outcome, answer) = connection.post(path, body)
                    let text = String(decoding: answer, as: UTF8.self)
                    lock.withLock {
                        outcomes.append(outcome)
                        if outcome == .status(200) && !text.contains("\"outputs\"") { badAnswers.append(text) }
                    }
                    if outcome == .refused { Thread.sleep(forTimeInterval: 0.01) }
                }
            }
            threads.append(t)
            t.start()
        }
    }

    /// Requests answered 200 so far.
    var answered: Int { lock.withLock { outcomes.filter { $0 == .status(200) }.count } }

    /// Stops the clients; every request's outcome, and the text of 200 answers without outputs.
    func stop() async throws -> (outcomes: [RawOutcome], badAnswers: [String]) {
        lock.withLock { stopping = true }
        while threads.contains(where: { !$0.isFinished }) { try await Task.sleep(for: .milliseconds(20)) }
        return lock.withLock { (outcomes, badAnswers) }
    }
}
