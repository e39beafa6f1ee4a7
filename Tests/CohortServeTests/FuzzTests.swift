// Malformed requests in bulk (10,000): seeded mutations of a valid infer body (bytes flipped, cut,
// duplicated, fields retyped), well-formed JSON with a wrong shape or datatype, bodies past the
// size limit, and slowloris-style requests (headers and part of a body, then a stall or a trickle).
// Every answer is 200 or a 4xx with a JSON error — never a 5xx, a hang or a crash —, every slow
// connection is closed by the server (idle or read timeout), and valid requests keep getting correct
// answers in between, while the slow ones hang. (The server process's memory under
// such load: ServeProcessTests.malformedRequestsLeaveTheServersMemoryBounded.)
import CohortCore
import CohortServe
import Foundation
import Testing

@Suite("Serve fuzz", .serialized)
struct ServeFuzzTests {
    static func mutate(_ valid: [UInt8], _ g: inout SplitMix64) -> [UInt8] {
        var b = valid
        let tokens: [String] = ["null", "true", "-1e999", "\"FP16\"", "[]", "{}", "[[", "\"", "1.5", "-7", "NaN", "\u{0}", "é", "99999999999999999999"]
        for _ in 0..<Int.random(in: 1...4, using: &g) {
            guard !b.isEmpty else { break }
            let i = Int.random(in: 0..<b.count, using: &g)
            switch Int.random(in: 0..<5, using: &g) {
            case 0: b[i] = UInt8.random(in: 0...255, using: &g)
            case 1: b.removeSubrange(i..<min(b.count, i + Int.random(in: 1...40, using: &g)))
            case 2: b.insert(contentsOf: Array(tokens.randomElement(using: &g)!.utf8), at: i)
            case 3: b = Array(b.prefix(i))
            default: b.insert(contentsOf: b[i..<min(b.count, i + 30)], at: i)
            }
        }
        return b
    }

    @Test func mutatedBodiesNeverBreakTheServer() async throws {
        let model = AffineModel()
        let s = try await RunningServer.start(model) {
            $0.maxRowsPerRequest = 16; $0.maxBodyBytes = 64 << 10; $0.idleTimeoutSeconds = 0.5; $0.readTimeoutSeconds = 1
        }
        let url = s.base + "/v2/models/affine/infer"
        let valid = Array(try JSONSerialization.data(withJSONObject: inferBody([[1, 2, 3, 4], [-1, 0.5, 2, 8]], id: "x")))
        var g = SplitMix64(seed: 17)   // seeded so a failure can be replayed
        var statuses: [Int: Int] = [:]
        let slow = SlowClients()
        defer { slow.stop() }
        for round in 0..<125 {
            try Self.openSlow(slow, port: s.port, valid: valid, &g)
            var bodies = (0..<72).map { _ in Data(Self.mutate(valid, &g)) }
            bodies += try Self.wrongButWellFormed(round)
            let answers = try await withThrowingTaskGroup(of: HTTPAnswer.self) { group in
                for b in bodies { group.addTask { try await HTTP.post(url, b) } }
                return try await group.reduce(into: [HTTPAnswer]()) { $0.append($1) }
            }
            for a in answers {
                statuses[a.status, default: 0] += 1
                #expect(a.status == 200 || (400..<500).contains(a.status), "round \(round): \(a.status) \(a.text)")
                if a.status != 200 { #expect(a.json["error"] is String, "round \(round): \(a.text)") }
            }
            let ok = try await HTTP.post(url, json: inferBody([[Float(round), 1, 2, 3]]))
            #expect(ok.status == 200 && outputData(ok) == model.forward([Float(round), 1, 2, 3]))
        }
        // Trickling connections send a byte every 100 ms, so only the 1 s read deadline closes them.
        let closed = try await slow.waitAllClosed(timeout: 60)
        let counts = slow.counts
        #expect(closed, "\(counts.open) of \(counts.opened) slow connections still open (\(counts.openTrickling) trickling)")
        #expect(statuses.values.reduce(0, +) + counts.opened == 10_000)
        #expect(statuses[400, default: 0] > 5000, "\(statuses)")
        #expect(statuses[413, default: 0] >= 125, "\(statuses)")
        print("serve fuzz: \(statuses.values.reduce(0, +) + counts.opened) malformed requests \(statuses.sorted { $0.key < $1.key }),"
              + " \(counts.opened) slowloris connections, all closed: \(closed)")
        let ok = try await HTTP.post(url, json: inferBody([[5, 6, 7, 8]]))
        #expect(ok.status == 200 && outputData(ok) == model.forward([5, 6, 7, 8]))
        slow.stop()   // first: a slow request the server failed to close would hold its drain open
        try await s.stop()
    }

    /// Four slowloris requests: headers and part of a (mutated or valid) body announced as 4,000 bytes,
    /// or part of the headers; two stall, two trickle a byte every 100 ms.
    static func openSlow(_ slow: SlowClients, port: Int, valid: [UInt8], _ g: inout SplitMix64) throws {
        for k in 0..<4 {
            let body = k % 2 == 0 ? valid : mutate(valid, &g)
            let request = Array("POST /v2/models/affine/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n".utf8) + body
            let headerBytes = request.count - body.count
            let prefix = k == 3 ? Int.random(in: 1..<headerBytes, using: &g)   // partial headers
                                : headerBytes + Int.random(in: 0...body.count / 2, using: &g)
            try slow.open(port: port, request: request, prefix: prefix, trickles: k >= 2)
        }
    }

    /// Well-formed requests that are still wrong: a shape that does not match the data or the
    /// model, a datatype the model does not take, a body past `maxBodyBytes` (64 KiB).
    static func wrongButWellFormed(_ round: Int) throws -> [Data] {
        let bodies: [[String: Any]] = [
            ["inputs": [["name": "input", "shape": [2, 5], "datatype": "FP32", "data": Array(repeating: 1.0, count: 10)]]],
            ["inputs": [["name": "input", "shape": [1, 4], "datatype": ["FP16", "INT64", "BYTES", "BOOL"][round % 4], "data": [1, 2, 3, 4]]]],
            ["inputs": [["name": "input", "shape": [1, 4], "datatype": "FP32", "data": Array(repeating: 0.5, count: 20_000)]]],
        ]
        return try bodies.map { try JSONSerialization.data(withJSONObject: $0) } + [Data(repeating: 0x20, count: 70 << 10)]
    }
}
