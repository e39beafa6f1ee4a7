// Serving while training under real load: `wrk` (8 connections, 20 s) against `cohort serve
// --watch` while `cohort train --extend` writes newer checkpoints — no failed request, and the
// answers switch to the new weights.
import CohortCheckpoint
import CohortProcessTestSupport
import Foundation
import Testing

@Suite("Serve under wrk", .serialized)
struct ServeWrkTests {
    @Test func watchSwapDuringA20SecondWrkRunFailsNoRequest() async throws {
        let dir = try makeScratchDirectory(prefix: "cohort-serve-wrk")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ServeCLI.train(dir + "/run", steps: 10)
        let (child, port) = try ServeCLI.serve(["--watch", dir + "/run", "--watch-interval", "0.2", "--no-access-log"],
                                               log: dir + "/serve.log")
        defer { if child.process.isRunning { child.process.terminate() } }
        let row = ServeProcessTests.rows[0].map { "\($0)" }.joined(separator: ", ")
        let script = dir + "/infer.lua"
        try """
        wrk.method = "POST"
        wrk.body = '{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [\(row)]}]}'
        wrk.headers["Content-Type"] = "application/json"
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let wrk = Process()
        wrk.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        wrk.arguments = ["wrk", "-t2", "-c8", "-d20s", "--latency", "-s", script, "http://127.0.0.1:\(port)/v2/models/mlp/infer"]
        let wrkLog = dir + "/wrk.log"
        _ = FileManager.default.createFile(atPath: wrkLog, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: wrkLog))
        wrk.standardOutput = handle
        wrk.standardError = handle
        try wrk.run()
        try await Task.sleep(for: .seconds(3))
        try ServeCLI.train(dir + "/run", steps: 30, extend: true)   // newer checkpoints at steps 20 and 30, mid-run
        wrk.waitUntilExit()
        let report = (try? String(contentsOfFile: wrkLog, encoding: .utf8)) ?? ""
        #expect(wrk.terminationStatus == 0, "wrk (installed by make deps): \(report)")
        #expect(report.contains("Requests/sec"), "\(report)")
        #expect(!report.contains("Non-2xx"), "failed requests during the swap:\n\(report)")
        #expect(!report.contains("Socket errors"), "connection errors during the swap:\n\(report)")
        let metrics = try await HTTP.get("http://127.0.0.1:\(port)/metrics").text
        #expect(ServeProcessTests.gauge(metrics, "cohort_serve_model_swaps_total") >= 1, "\(metrics)")
        let answer = try await HTTP.post("http://127.0.0.1:\(port)/v2/models/mlp/infer", json: inferBody([ServeProcessTests.rows[0]]))
        #expect(answer.json["model_version"] as? String == "30", "\(answer.text)\n\(child.output)")
        let checkpoint = try #require(CheckpointStore(directory: dir + "/run").latestValid())
        let expected = try ServeCLI.forward(checkpoint: checkpoint, rows: [ServeProcessTests.rows[0]])[0]
        #expect(zip(outputData(answer), expected).allSatisfy { abs($0 - $1) <= 1e-5 })
        print("serve under wrk: " + report.split(separator: "\n").filter { $0.contains("Requests/sec") || $0.contains("requests in") }.joined(separator: "; "))
        kill(child.process.processIdentifier, SIGTERM)
        #expect(child.wait(timeout: 30) == 0)
    }
}
