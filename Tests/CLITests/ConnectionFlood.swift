// A hostile-but-fair local user for the launch tests: threads that open TCP
// connections to a loopback port as fast as they can, without any secret, hold
// the newest few hundred open (more than the coordinator's slots) and reset the
// older ones. Bounded: loopback only, stops on `stop()` or after a time limit.
import Dispatch
import Foundation
import Glibc
import Synchronization

final class ConnectionFlood: Sendable {
    /// Connections established (the kernel completed the handshake).
    let connections = Atomic<Int>(0)
    /// Connects that failed or timed out (e.g. nothing listening any more).
    let failures = Atomic<Int>(0)
    let started = Date()
    private let stopping = Atomic<Bool>(false)
    private let finished: DispatchSemaphore
    private let threads: Int

    /// Starts `threads` threads flooding 127.0.0.1:`port`, each holding its newest `hold`
    /// connections, for at most `limit` seconds.
    init(port: UInt16, threads: Int = 2, hold: Int = 200, limit: Double = 120) {
        self.threads = threads
        finished = DispatchSemaphore(value: 0)
        for _ in 0..<threads {
            let thread = Thread { [self] in
                flood(port: port, hold: hold, deadline: started.addingTimeInterval(limit))
                finished.signal()
            }
            thread.start()
        }
    }

    private func flood(port: UInt16, hold: Int, deadline: Date) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var ring = [Int32](repeating: -1, count: hold)
        var next = 0
        var iterations = 0
        while !stopping.load(ordering: .relaxed) {
            iterations += 1
            if iterations % 256 == 0 && Date() > deadline { break }
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { failures.add(1, ordering: .relaxed); usleep(1000); continue }
            // A bounded connect (a full backlog would otherwise block for SYN retries), and a
            // reset on close: no TIME_WAIT, so the ephemeral ports never run out.
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var reset = linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, socklen_t(MemoryLayout<linger>.size))
            let rc = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard rc == 0 else {
                let code = errno
                close(fd)
                failures.add(1, ordering: .relaxed)
                if code == ECONNREFUSED { usleep(10_000) }
                continue
            }
            connections.add(1, ordering: .relaxed)
            if ring[next] >= 0 { close(ring[next]) }
            ring[next] = fd
            next = (next + 1) % hold
        }
        for fd in ring where fd >= 0 { close(fd) }
    }

    /// Stops every thread (waiting for them); returns the connections made and the seconds it ran.
    func stop() -> (connections: Int, seconds: Double) {
        stopping.store(true, ordering: .relaxed)
        for _ in 0..<threads { finished.wait() }
        return (connections.load(ordering: .relaxed), Date().timeIntervalSince(started))
    }
}
