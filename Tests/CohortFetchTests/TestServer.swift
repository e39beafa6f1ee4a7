// Starts Tests/Support/range_server.py (Python 3, standard library) on a free
// port for one test, serving a directory over HTTP with Range support, optional
// cut-short responses and a JSON log of every request it answered.
import Foundation

/// A local HTTP server process; `stop()` ends it.
final class TestServer {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The shared datasets (`../shared/data` from the repository), laid out as a mirror.
    static let sharedData = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data").path
    static let script = repoRoot.appendingPathComponent("Tests/Support/range_server.py").path

    let process = Process()
    let port: Int
    let logPath: String

    /// Serves `root`; `cuts` maps a path suffix to the bytes its first response sends before
    /// the connection drops; `noRange` makes it ignore Range headers (always 200).
    init(root: String = TestServer.sharedData, cuts: [String: Int] = [:], noRange: Bool = false) throws {
        logPath = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-server-\(UUID().uuidString).jsonl").path
        var args = [Self.script, "--root", root, "--port", "0", "--log", logPath]
        for (name, bytes) in cuts.sorted(by: { $0.key < $1.key }) { args += ["--cut", "\(name)=\(bytes)"] }
        if noRange { args.append("--no-range") }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + args
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        // The first line is `PORT <n>`, printed once the socket listens.
        var text = ""
        while !text.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let line = text.split(separator: "\n").first, line.hasPrefix("PORT "), let port = Int(line.dropFirst(5)) else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "range_server.py did not start: '\(text)'"])
        }
        self.port = port
    }

    /// `http://127.0.0.1:PORT`: the value for a mirror.
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// One logged request: path, Range header, status and body bytes sent.
    struct Request: Decodable {
        var method: String
        var path: String
        var range: String?
        var status: Int
        var sent: Int
    }

    /// Every request answered so far, in order.
    func requests() throws -> [Request] {
        guard let data = FileManager.default.contents(atPath: logPath) else { return [] }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(Request.self, from: Data($0.utf8))
        }
    }

    func stop() {
        if process.isRunning { process.terminate() }
        // SIGKILL if SIGTERM has not ended it within 2 s: a stuck server must not hang the tests.
        let deadline = Date().addingTimeInterval(2)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: logPath)
    }
}

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-fetch-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// `name` inside the directory.
    func file(_ name: String) -> String { path + "/" + name }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
