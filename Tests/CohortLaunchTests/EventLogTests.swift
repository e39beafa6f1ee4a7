// The JSON-lines event log: exact line format, escaping, whole lines under
// concurrent writers, and errors that name the path.
import CohortProcessTestSupport
import Foundation
import Testing
@testable import CohortLaunch

@Suite struct EventLogTests {
    @Test func genericEventsKeepFieldOrderAndParse() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/events.jsonl"
        let log = try EventLog(path: path, now: { Date(timeIntervalSince1970: 0) })
        try log.log(event: "host_excluded", fields: ["host": "h2", "seconds": 20, "failures": 2, "probe": false, "load": 0.5])
        try log.log(event: "rejected_message", fields: [("reason", .string("bad \"mac\"\nfrom 10.0.0.9\u{1}")), ("ranks", .strings(["0", "1"])), ("x", .null)])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(text.hasSuffix("\n") && lines.count == 2)
        #expect(lines[0] == #"{"time":"1970-01-01T00:00:00.000Z","event":"host_excluded","host":"h2","seconds":20,"failures":2,"probe":false,"load":0.5}"#)
        let second = try #require(JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["event"] as? String == "rejected_message")
        #expect(second["reason"] as? String == "bad \"mac\"\nfrom 10.0.0.9\u{1}")
        #expect(second["ranks"] as? [String] == ["0", "1"])
    }

    @Test func appendsToAnExistingFile() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/events.jsonl"
        try EventLog(path: path).log(event: "a")
        try EventLog(path: path).log(event: "b")
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2 && lines[1].contains(#""event":"b""#))
    }

    @Test func concurrentWritersNeverInterleaveLines() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/events.jsonl"
        let log = try EventLog(path: path, durable: false)
        let padding = String(repeating: "x", count: 3000)
        DispatchQueue.concurrentPerform(iterations: 8) { writer in
            for i in 0..<100 {
                try? log.log(event: "tick", fields: [("writer", .int(writer)), ("i", .int(i)), ("pad", .string(padding))])
            }
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 800)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["pad"] as? String == padding)
        }
    }

    @Test func openErrorNamesThePath() {
        let path = "/nonexistent-dir-\(UUID().uuidString)/events.jsonl"
        #expect { try EventLog(path: path) } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("No such file or directory")
        }
    }

    @Test func writeErrorNamesThePath() throws {
        // /dev/full accepts the open and fails every write with ENOSPC.
        let log = try EventLog(path: "/dev/full", durable: false)
        #expect { try log.log(event: "x") } throws: { error in
            "\(error)" == "event log /dev/full: cannot append: No space left on device"
        }
    }
}
