// `cohort serve` as a process on a real checkpoint (iris MLP trained by `cohort train`): a
// tritonclient[http] client from the reference venv gets what `cohort predict` gives on the same raw rows, SIGTERM
// under load completes the requests it began reading, refuses new ones and exits 0, and --watch swaps to a newer checkpoint under load.
import CohortCheckpoint
import CohortCore
import CohortNN
import CohortProcessTestSupport
import CohortRuntime
import CohortTensor
import Foundation
import Testing

/// The `cohort` binary (COHORT_BIN, as `make test` sets it; else the release build) and the data.
enum ServeCLI {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let iris = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/iris/iris.csv").path
    static var binary: String {
        if let b = ProcessInfo.processInfo.environment["COHORT_BIN"], !b.isEmpty { return b }
        return repoRoot.appendingPathComponent(".build/release/cohort").path
    }

    /// Trains the iris MLP for `steps` into `dir` (with `extend`: continues the finished run there).
    static func train(_ dir: String, steps: Int, extend: Bool = false) throws {
        let log = dir + "-train.log"
        let status = try run(["train", "--data", iris, "--hidden", "16", "--steps", "\(steps)", "--global-batch", "24",
                              "--lr", "1e-2", "--checkpoint-dir", dir, "--checkpoint-every", "10", "--resume", "auto",
                              "--log-every", "1000"] + (extend ? ["--extend"] : []), log: log).wait(timeout: 300)
        #expect(status == 0, "cohort train: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    static func run(_ args: [String], log: String) throws -> Child {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no cohort binary at \(binary): set COHORT_BIN or `swift build -c release`"])
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        return Child(process: p, log: log)
    }

    /// Starts `cohort serve args… --port 0` and waits for the port it prints.
    static func serve(_ args: [String], log: String) throws -> (Child, Int) {
        let child = try run(["serve", "--port", "0"] + args, log: log)
        var port: Int?
        let ok = eventually(timeout: 120) {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let r = text.range(of: #"port=(\d+)"#, options: .regularExpression) {
                port = Int(text[r].dropFirst(5))
            }
            return port != nil || !child.process.isRunning
        }
        guard ok, let port else {
            child.process.terminate()
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "cohort serve did not start: \(child.output)"])
        }
        return (child, port)
    }

    /// What the served model answers for raw `rows`: the checkpoint's `InferenceModel` outputs
    /// (class probabilities), the load path `cohort predict` uses.
    static func forward(checkpoint: Checkpoint, rows: [[Float]]) throws -> [[Float]] {
        let model = try InferenceModel(path: checkpoint.path)
        let out = try model.outputs(rawRows: rows.flatMap { $0 }, count: rows.count)
        let width = out.count / rows.count
        return (0..<rows.count).map { Array(out[$0 * width..<($0 + 1) * width]) }
    }

    /// `cohort predict` on `rows` (a headerless CSV) with every class's probability: per row,
    /// probabilities by class id.
    static func predict(runDirectory: String, rows: [[Float]], dir: String, classes: Int) throws -> [[Float]] {
        let csv = dir + "/rows.csv", out = dir + "/predict.jsonl"
        try rows.map { $0.map { "\($0)" }.joined(separator: ",") }.joined(separator: "\n").appending("\n")
            .write(toFile: csv, atomically: true, encoding: .utf8)
        let child = try run(["predict", "--checkpoint", runDirectory, "--input", csv, "--top-k", "\(classes)", "--output", out], log: dir + "/predict.log")
        #expect(child.wait(timeout: 120) == 0, "cohort predict: \(child.output)")
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        return try lines.map { line in
            let o = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            var p = [Float](repeating: .nan, count: classes)
            for entry in (o["top_k"] as? [[String: Any]]) ?? [] {
                if let c = entry["class"] as? Int, let v = entry["probability"] as? Double, c < classes { p[c] = Float(v) }
            }
            return p
        }
    }
}

/// A started child process and its combined output file.
struct Child {
    let process: Process
    let log: String
    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits for exit (SIGKILL after `timeout` s); the exit status, or -1 when it had to be killed.
    func wait(timeout: Double) -> Int32 {
        if !eventually(timeout: timeout, { !process.isRunning }) {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

@Suite("Serve process", .serialized)
struct ServeProcessTests {
    static let rows: [[Float]] = (0..<32).map { (i: Int) -> [Float] in
        (0..<4).map { (j: Int) -> Float in
            let k: Int = (i * 7 + j * 3) % 11 - 5
            return Float(k) * 0.3
        }
    }

    @Test func tritonClientGetsWhatPredictGives() throws {
        let dir = try makeScratchDirectory(prefix: "cohort-serve")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ServeCLI.train(dir + "/run", steps: 20)
        let (child, port) = try ServeCLI.serve(["--checkpoint", dir + "/run", "--name", "iris"], log: dir + "/serve.log")
        defer { if child.process.isRunning { child.process.terminate() } }
        let rowsPath = dir + "/rows.json", outPath = dir + "/out.json"
        try JSONSerialization.data(withJSONObject: Self.rows.map { $0.map(Double.init) }).write(to: URL(fileURLWithPath: rowsPath))
        let py = Process()
        py.executableURL = URL(fileURLWithPath: ReferenceVenv.python)
        py.arguments = [ServeCLI.repoRoot.appendingPathComponent("checks/support/serve_client.py").path,
                        "127.0.0.1:\(port)", "iris", rowsPath, outPath]
        let pyLog = dir + "/client.log"
        _ = FileManager.default.createFile(atPath: pyLog, contents: nil)
        py.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: pyLog))
        try py.run()
        py.waitUntilExit()
        #expect(py.terminationStatus == 0, "serve_client.py: \((try? String(contentsOfFile: pyLog, encoding: .utf8)) ?? "")\n\(child.output)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: outPath))) as? [String: Any])
        let checkpoint = try #require(CheckpointStore(directory: dir + "/run").latestValid())
        let expected = try ServeCLI.forward(checkpoint: checkpoint, rows: Self.rows)
        let predicted = try ServeCLI.predict(runDirectory: dir + "/run", rows: Self.rows, dir: dir, classes: 3)
        #expect(predicted.count == Self.rows.count)
        for (p, want) in zip(predicted, expected) {
            #expect(zip(p, want).allSatisfy { abs($0 - $1) <= 1e-5 }, "cohort predict \(p), served model \(want)")
        }
        func floats(_ key: String) -> [[Float]] { ((result[key] as? [[Double]]) ?? []).map { $0.map(Float.init) } }
        let batch1 = floats("batch1"), batchN = floats("batchN")
        #expect(batch1.count == 1 && batchN.count == 32)
        for (got, want) in zip(batch1 + batchN, [predicted[0]] + predicted) {
            #expect(zip(got, want).allSatisfy { abs($0 - $1) <= 1e-5 }, "tritonclient \(got), cohort predict's probabilities \(want)")
        }
        #expect((result["error"] as? String)?.contains("shape") == true, "\(result["error"] ?? "none")")
        let meta = result["metadata"] as? [String: Any]
        #expect(meta?["versions"] as? [String] == ["20"])
        kill(child.process.processIdentifier, SIGTERM)
        #expect(child.wait(timeout: 30) == 0, "\(child.output)")
    }

    /// SIGTERM under sustained load (16 keep-alive clients posting back to back). The 8 requests the
    /// server had begun reading when the signal came (headers and half a body sent, the rest sent after
    /// the signal) complete with 200; new connections are refused once the listener closes, while they
    /// keep the process up; every load request is answered 200 or refused cleanly — connection refused,
    /// 503, or its idle keep-alive connection closed before any byte of an answer (a request the server
    /// never began reading; HTTP/1.1 clients retry those) —, none is cut off mid-answer; exit status 0.
    @Test func sigtermUnderLoadCompletesAcceptedRequestsAndExitsZero() async throws {
        let dir = try makeScratchDirectory(prefix: "cohort-serve")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ServeCLI.train(dir + "/run", steps: 10)
        let (child, port) = try ServeCLI.serve(["--checkpoint", dir + "/run", "--idle-timeout", "60", "--read-timeout", "60",
                                                "--no-access-log"], log: dir + "/serve.log")
        defer { if child.process.isRunning { child.process.terminate() } }
        let path = "/v2/models/mlp/infer", base = "http://127.0.0.1:\(port)"
        let bodies = try (0..<8).map { Array(try JSONSerialization.data(withJSONObject: inferBody([Self.rows[$0]]))) }
        var held: [(fd: Int32, rest: [UInt8])] = []
        defer { held.forEach { close($0.fd) } }
        for b in bodies {
            let request = RawHTTPConnection.post(path, b), half = request.count - b.count / 2
            let fd = try #require(RawHTTPConnection.connectSocket(port: port))
            #expect(RawHTTPConnection.sendAll(fd, request[0..<half]))
            held.append((fd, Array(request[half...])))
        }
        var deadline = Date().addingTimeInterval(60)
        while Date() < deadline, Self.gauge(try await HTTP.get(base + "/metrics").text, "cohort_serve_requests_in_flight") < 8 {
            try await Task.sleep(for: .milliseconds(20))
        }
        let load = LoadClients(port: port, path: path, body: bodies[0], clients: 16)
        deadline = Date().addingTimeInterval(20)
        while load.answered < 300 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let answeredBefore = load.answered
        kill(child.process.processIdentifier, SIGTERM)
        var refused = false
        deadline = Date().addingTimeInterval(30)
        while !refused && Date() < deadline {
            if let fd = RawHTTPConnection.connectSocket(port: port) { close(fd); try await Task.sleep(for: .milliseconds(10)) } else { refused = true }
        }
        #expect(refused, "new connections were still accepted 30 s after SIGTERM")
        #expect(child.process.isRunning, "the server exited with 8 requests in flight: \(child.output)")
        for h in held { #expect(RawHTTPConnection.sendAll(h.fd, h.rest[...])) }
        for (i, h) in held.enumerated() {
            let (outcome, answer, _) = RawHTTPConnection.readAnswer(h.fd)
            let json = (try? JSONSerialization.jsonObject(with: Data(answer))) as? [String: Any]
            let data = ((json?["outputs"] as? [[String: Any]])?.first?["data"] as? [Double]) ?? []
            #expect(outcome == .status(200) && data.count == 3, "held request \(i): \(outcome) \(String(decoding: answer, as: UTF8.self))")
        }
        let (outcomes, bad) = try await load.stop()
        let ok = outcomes.filter { $0 == .status(200) }.count
        let cleanRefusals = outcomes.filter { $0 == .refused || $0 == .closedBeforeAnswer || $0 == .status(503) }.count
        print("serve SIGTERM under load: \(outcomes.count) load requests, \(ok) answered 200 (\(answeredBefore) before the signal),"
              + " \(cleanRefusals) refused cleanly")
        #expect(ok + cleanRefusals == outcomes.count, "other outcomes: \(outcomes.filter { $0 != .status(200) && $0 != .refused && $0 != .closedBeforeAnswer && $0 != .status(503) }.prefix(5))")
        #expect(bad.isEmpty, "\(bad.prefix(2))")
        #expect(ok >= answeredBefore && ok > 0, "no load request was answered")
        #expect(child.wait(timeout: 30) == 0, "\(child.output)")
        #expect(child.output.contains("server stopped"))
    }

    /// 6,000 mutated infer bodies against the process: after a 1,000-request warm-up its resident
    /// memory grows by less than 8 MiB (measured: ~0.8 MiB over 20,000), and it still answers a
    /// valid request with the model's output.
    @Test func malformedRequestsLeaveTheServersMemoryBounded() async throws {
        let dir = try makeScratchDirectory(prefix: "cohort-serve")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ServeCLI.train(dir + "/run", steps: 10)
        let (child, port) = try ServeCLI.serve(["--checkpoint", dir + "/run", "--no-access-log", "--max-delay-ms", "0"], log: dir + "/serve.log")
        defer { if child.process.isRunning { child.process.terminate() } }
        let url = "http://127.0.0.1:\(port)/v2/models/mlp/infer"
        let valid = Array(try JSONSerialization.data(withJSONObject: inferBody([Self.rows[0], Self.rows[1]])))
        var g = SplitMix64(seed: 5)
        var resident: [Int] = []
        var serverErrors = 0
        for round in 0..<60 {
            if round == 10 { resident.append(Self.residentBytes(child.process.processIdentifier)) }
            let bodies = (0..<100).map { _ in Data(ServeFuzzTests.mutate(valid, &g)) }
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for b in bodies { group.addTask { try await HTTP.post(url, b).status } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            serverErrors += statuses.filter { $0 >= 500 }.count
        }
        resident.append(Self.residentBytes(child.process.processIdentifier))
        let growth = resident[1] - resident[0]
        print("serve process fuzz: 6,000 malformed requests, server resident \(resident[0] >> 10) → \(resident[1] >> 10) KiB")
        #expect(serverErrors == 0)
        #expect(growth < 8 << 20, "the server's resident memory grew \(growth >> 20) MiB over 5,000 malformed requests")
        let checkpoint = try #require(CheckpointStore(directory: dir + "/run").latestValid())
        let answer = try await HTTP.post(url, json: inferBody([Self.rows[0]]))
        let want = try ServeCLI.forward(checkpoint: checkpoint, rows: [Self.rows[0]])[0]
        #expect(answer.status == 200 && zip(outputData(answer), want).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(answer.text)")
        kill(child.process.processIdentifier, SIGTERM)
        #expect(child.wait(timeout: 30) == 0)
    }

    /// A process's resident set size in bytes (/proc/PID/statm).
    static func residentBytes(_ pid: Int32) -> Int {
        let statm = (try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8)) ?? ""
        let pages = statm.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The value of the Prometheus sample `name` (labels included) in `text`, 0 when absent.
    static func gauge(_ text: String, _ name: String) -> Int {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Int(Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)) ?? 0)
        }
        return 0
    }

    @Test func batchesDoNotWaitWhenEveryRequestIsQueued() async throws {
        let dir = try makeScratchDirectory(prefix: "cohort-serve")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ServeCLI.train(dir + "/run", steps: 10)
        let (child, port) = try ServeCLI.serve(["--checkpoint", dir + "/run", "--max-delay-ms", "3000", "--no-access-log"],
                                               log: dir + "/serve.log")
        defer { if child.process.isRunning { child.process.terminate() } }
        let start = Date()
        let answer = try await HTTP.post("http://127.0.0.1:\(port)/v2/models/mlp/infer", json: inferBody([Self.rows[0]]))
        #expect(answer.status == 200)
        #expect(Date().timeIntervalSince(start) < 2.5, "a lone request waited for the 3 s window")
        kill(child.process.processIdentifier, SIGTERM)
        #expect(child.wait(timeout: 30) == 0)
    }

    @Test func watchSwapsToANewerCheckpointUnderLoad() async throws {
        let dir = try makeScratchDirectory(prefix: "cohort-serve")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try ServeCLI.train(dir + "/run", steps: 10)
        let (child, port) = try ServeCLI.serve(["--watch", dir + "/run", "--watch-interval", "0.2", "--no-access-log"],
                                               log: dir + "/serve.log")
        defer { if child.process.isRunning { child.process.terminate() } }
        let url = "http://127.0.0.1:\(port)/v2/models/mlp/infer"
        let trainer = Task.detached { try ServeCLI.train(dir + "/run", steps: 30, extend: true) }
        var versions: [String: Int] = [:]
        var failures: [String] = []
        var deadline = Date().addingTimeInterval(240)
        while versions["30"] == nil && Date() < deadline {
            let trainLog = (try? String(contentsOfFile: dir + "/run-train.log", encoding: .utf8)) ?? ""
            if trainLog.contains("done:") || trainLog.contains("Error") {
                deadline = min(deadline, Date().addingTimeInterval(10))   // trained: the swap follows within a poll or two
            }
            let answer = try await HTTP.post(url, json: inferBody([Self.rows[0]]))
            if answer.status == 200, let v = answer.json["model_version"] as? String { versions[v, default: 0] += 1 } else {
                failures.append("\(answer.status) \(answer.text)")
            }
        }
        try await trainer.value
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(versions["10", default: 0] > 0 && versions["30", default: 0] > 0, "versions served: \(versions)\n\(child.output)")
        let checkpoint = try #require(CheckpointStore(directory: dir + "/run").latestValid())
        let expected = try ServeCLI.forward(checkpoint: checkpoint, rows: [Self.rows[0]])[0]
        let last = try await HTTP.post(url, json: inferBody([Self.rows[0]]))
        #expect(zip(outputData(last), expected).allSatisfy { abs($0 - $1) <= 1e-5 })
        kill(child.process.processIdentifier, SIGTERM)
        #expect(child.wait(timeout: 30) == 0)
    }
}
