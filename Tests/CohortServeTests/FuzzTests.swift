// Malformed requests in bulk: seeded mutations of a valid infer body (bytes flipped, cut, duplicated,
// fields retyped). Every answer is 200 or a 4xx with a JSON error — never a 5xx, a hang or a crash —
// and valid requests keep getting correct answers in between.
import CohortServe
import Foundation
import Testing

@Suite("Serve fuzz", .serialized)
struct ServeFuzzTests {
    /// A small seeded generator (SplitMix64) so a failure can be replayed.
    struct Mix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func mutate(_ valid: [UInt8], _ g: inout Mix) -> [UInt8] {
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
        let s = try await RunningServer.start(model) { $0.maxRowsPerRequest = 16; $0.maxBodyBytes = 64 << 10 }
        let url = s.base + "/v2/models/affine/infer"
        let valid = Array(try JSONSerialization.data(withJSONObject: inferBody([[1, 2, 3, 4], [-1, 0.5, 2, 8]], id: "x")))
        var g = Mix(state: 17)
        var statuses: [Int: Int] = [:]
        for round in 0..<25 {
            let bodies = (0..<80).map { _ in Data(Self.mutate(valid, &g)) }
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
        #expect(statuses.values.reduce(0, +) == 2000)
        #expect(statuses[400, default: 0] > 1000, "\(statuses)")
        try await s.stop()
    }
}
