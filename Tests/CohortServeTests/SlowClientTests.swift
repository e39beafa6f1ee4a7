// Slowloris-style clients: connections that send part of a request and then nothing are closed
// after --idle-timeout, and the server keeps answering valid requests meanwhile.
import CohortServe
import Foundation
import Testing

@Suite("Serve slow clients", .serialized)
struct ServeSlowClientTests {
    /// A TCP connection to 127.0.0.1:`port` that sent `prefix` and waits (10 s receive timeout).
    static func partialRequest(port: Int, prefix: String) throws -> Int32 {
        guard let fd = RawHTTPConnection.connectSocket(port: port) else { throw POSIXError(.ECONNREFUSED) }
        _ = prefix.withCString { send(fd, $0, strlen($0), 0) }
        return fd
    }

    @Test func stalledConnectionsAreClosedAndValidRequestsServed() async throws {
        let model = AffineModel()
        let s = try await RunningServer.start(model) { $0.idleTimeoutSeconds = 0.5 }
        let stalled = try (0..<40).map { i in
            try Self.partialRequest(port: s.port, prefix: i % 2 == 0
                ? "POST /v2/models/affine/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{\"inputs\": ["
                : "POST /v2/models/affine/infer HTTP/1.1\r\nHost: x\r\nContent-Le")
        }
        defer { stalled.forEach { close($0) } }
        for i in 0..<10 {
            let a = try await HTTP.post(s.base + "/v2/models/affine/infer", json: inferBody([[Float(i), 2, 3, 4]]))
            #expect(a.status == 200 && outputData(a) == model.forward([Float(i), 2, 3, 4]))
        }
        try await Task.sleep(for: .seconds(1.5))
        var closed = 0
        for fd in stalled {
            var buffer = [UInt8](repeating: 0, count: 4096)
            var total = 0
            while true {   // read to EOF: a 408/400 answer may come before the close
                let n = recv(fd, &buffer, buffer.count, 0)
                if n <= 0 { if n == 0 { closed += 1 }; break }
                total += n
            }
            _ = total
        }
        #expect(closed == stalled.count, "\(closed) of \(stalled.count) stalled connections were closed")
        try await s.stop()
    }
}
