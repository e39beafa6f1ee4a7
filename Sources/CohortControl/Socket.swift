// The only file that talks to Glibc: IPv4 TCP sockets (non-blocking listener,
// connect with a timeout and a way to abort it), poll(2), a self-pipe to wake a
// polling thread, and the monotonic clock. No C type leaves this file.
import Glibc

/// What one `read` on a non-blocking socket gave.
enum ReadResult {
    case data(Int)
    case wouldBlock
    case eof
    case failed(String)
}

/// What one `send` on a non-blocking socket gave.
enum WriteResult {
    case wrote(Int)
    case wouldBlock
    case failed(String)
}

/// One descriptor to watch in `Sock.poll`, and what happened to it.
struct PollEntry {
    var fd: Int32
    var wantRead: Bool
    var wantWrite: Bool
    var readable = false
    var writable = false
    /// Error or hang-up: reading will report the cause (or end of file).
    var broken = false

    init(fd: Int32, read: Bool, write: Bool = false) {
        self.fd = fd
        wantRead = read
        wantWrite = write
    }
}

enum Sock {
    /// `strerror(errno)`, for messages.
    static func errorString(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }

    /// Seconds on CLOCK_MONOTONIC: unaffected by wall-clock jumps.
    static func monotonicNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Resolves an IPv4 address or host name. Blocks in the resolver for host names.
    static func resolve(host: String, port: UInt16, passive: Bool) throws -> sockaddr_in {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = passive ? AI_PASSIVE : 0
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw ControlError.badAddress("\(host):\(port)", "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if entry.pointee.ai_family == AF_INET, let sa = entry.pointee.ai_addr {
                return UnsafeRawPointer(sa).loadUnaligned(as: sockaddr_in.self)
            }
            cursor = entry.pointee.ai_next
        }
        throw ControlError.badAddress("\(host):\(port)", "\(host) has no IPv4 address")
    }

    /// A non-blocking, close-on-exec listening socket; returns it and the port actually bound.
    static func listen(host: String, port: UInt16, backlog: Int32) throws -> (fd: Int32, port: UInt16) {
        let address = "\(host):\(port)"
        var sa = try resolve(host: host, port: port, passive: true)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlError.socket(operation: "socket", address: address, errorString()) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let message = errorString()
            close(fd)
            throw ControlError.socket(operation: "bind", address: address, message)
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let message = errorString()
            close(fd)
            throw ControlError.socket(operation: "listen", address: address, message)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: actual.sin_port))
    }

    /// Accepts one pending connection as a non-blocking socket with its `ip:port`;
    /// nil when none is pending; throws (with errno) on other failures, e.g. EMFILE.
    static func accept(_ listener: Int32) throws -> (fd: Int32, peer: String)? {
        var sa = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = withUnsafeMutablePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.accept(listener, $0, &length)
            }
        }
        if fd < 0 {
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK || code == EINTR || code == ECONNABORTED { return nil }
            throw ControlError.socket(operation: "accept", address: "listener", errorString(code))
        }
        // accept4 is not visible to Swift (it needs _GNU_SOURCE); the listener's flags are not inherited.
        setNonBlockingCloseOnExec(fd)
        // Control traffic is small; a fixed send buffer keeps a peer that stops reading from
        // parking megabytes in the kernel before the server's own bound notices it.
        var sendBuffer: Int32 = 64 * 1024
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sendBuffer, socklen_t(MemoryLayout<Int32>.size))
        return (fd, describe(sa))
    }

    static func setNonBlockingCloseOnExec(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
    }

    static func describe(_ sa: sockaddr_in) -> String {
        var addr = sa.sin_addr
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &addr, &text, socklen_t(INET_ADDRSTRLEN))
        let ip = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return "\(ip):\(UInt16(bigEndian: sa.sin_port))"
    }

    /// Connects within `timeout` seconds. While waiting it also watches `wakeFD`
    /// (drained when readable) and gives up as soon as `shouldStop()` is true.
    /// Returns a non-blocking socket.
    static func connect(host: String, port: UInt16, timeout: Double, wakeFD: Int32,
                        shouldStop: () -> Bool) throws -> Int32 {
        let address = "\(host):\(port)"
        var sa = try resolve(host: host, port: port, passive: false)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlError.socket(operation: "socket", address: address, errorString()) }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let rc = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc == 0 { return fd }
        guard errno == EINPROGRESS else {
            let message = errorString()
            close(fd)
            throw ControlError.socket(operation: "connect", address: address, message)
        }
        let deadline = monotonicNow() + timeout
        while true {
            if shouldStop() { close(fd); throw ControlError.notRunning }
            let remaining = deadline - monotonicNow()
            if remaining <= 0 { close(fd); throw ControlError.socket(operation: "connect", address: address, "timed out") }
            var entries = [PollEntry(fd: fd, read: false, write: true), PollEntry(fd: wakeFD, read: true)]
            poll(&entries, timeout: remaining)
            if entries[1].readable { drain(wakeFD) }
            if entries[0].writable || entries[0].broken {
                var code: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
                if code == 0 { return fd }
                close(fd)
                throw ControlError.socket(operation: "connect", address: address, errorString(code))
            }
        }
    }

    /// Reads at most `scratch.count` bytes into the front of `scratch`.
    static func read(_ fd: Int32, into scratch: inout [UInt8]) -> ReadResult {
        let n = scratch.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 { return .data(n) }
        if n == 0 { return .eof }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return .wouldBlock }
        return .failed(errorString(code))
    }

    /// Sends what the kernel takes of `bytes[offset...]`; MSG_NOSIGNAL so a closed peer gives EPIPE, not SIGPIPE.
    static func write(_ fd: Int32, _ bytes: [UInt8], from offset: Int) -> WriteResult {
        guard offset < bytes.count else { return .wrote(0) }
        let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
        if n >= 0 { return .wrote(n) }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return .wouldBlock }
        return .failed(errorString(code))
    }

    static func close(_ fd: Int32) { _ = Glibc.close(fd) }

    /// Waits up to `timeout` seconds (clamped to [0, 60]) and fills in the results.
    static func poll(_ entries: inout [PollEntry], timeout: Double) {
        var fds = entries.map { e -> pollfd in
            var events: Int16 = 0
            if e.wantRead { events |= Int16(POLLIN) }
            if e.wantWrite { events |= Int16(POLLOUT) }
            return pollfd(fd: e.fd, events: events, revents: 0)
        }
        let ms = Int32((min(max(timeout, 0), 60) * 1000).rounded(.up))
        let rc = fds.withUnsafeMutableBufferPointer { Glibc.poll($0.baseAddress, nfds_t($0.count), ms) }
        guard rc > 0 else {
            for i in entries.indices { entries[i].readable = false; entries[i].writable = false; entries[i].broken = false }
            return
        }
        for i in entries.indices {
            let r = fds[i].revents
            entries[i].readable = r & Int16(POLLIN) != 0
            entries[i].writable = r & Int16(POLLOUT) != 0
            entries[i].broken = r & Int16(POLLERR | POLLHUP | POLLNVAL) != 0
        }
    }

    /// Reads everything pending on a non-blocking descriptor (the wake pipe).
    static func drain(_ fd: Int32) {
        var scratch = [UInt8](repeating: 0, count: 64)
        while scratch.withUnsafeMutableBytes({ Glibc.read(fd, $0.baseAddress, 64) }) > 0 {}
    }
}

/// A self-pipe: any thread calls `signal()` to make a poll on `readFD` return.
/// Owns both descriptors and closes them when the last user lets go.
final class WakePipe: Sendable {
    let readFD: Int32
    let writeFD: Int32

    init() throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw ControlError.socket(operation: "pipe", address: "wake pipe", Sock.errorString())
        }
        Sock.setNonBlockingCloseOnExec(fds[0])
        Sock.setNonBlockingCloseOnExec(fds[1])
        readFD = fds[0]
        writeFD = fds[1]
    }

    /// Makes the poller wake; a full pipe already guarantees that, so EAGAIN is fine.
    func signal() {
        var byte: UInt8 = 1
        _ = Glibc.write(writeFD, &byte, 1)
    }

    func drain() { Sock.drain(readFD) }

    /// Sleeps up to `seconds`, waking early (and draining) when signalled.
    func wait(_ seconds: Double) {
        var entries = [PollEntry(fd: readFD, read: true)]
        Sock.poll(&entries, timeout: seconds)
        if entries[0].readable { drain() }
    }

    deinit {
        Glibc.close(readFD)
        Glibc.close(writeFD)
    }
}
