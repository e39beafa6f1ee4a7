// Runs the release `cohort` binary (COHORT_BIN, set by `make test`; else
// .build/release/cohort) with a time limit and captures its output.
import Foundation
import Testing

struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var output: String { stdout + stderr }
}

enum CLI {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let mnist = repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/mnist").path

    static var binary: String {
        if let b = ProcessInfo.processInfo.environment["COHORT_BIN"], !b.isEmpty { return b }
        return repoRoot.appendingPathComponent(".build/release/cohort").path
    }

    /// Runs `cohort args…`; kills it after `timeout` seconds (a hang is a failure, not a wait).
    /// With `killAfter`, the process gets SIGKILL after that many seconds (if still running).
    static func run(_ args: [String], timeout: Double = 300, environment: [String: String] = [:],
                    killAfter: Double? = nil, executable: String? = nil) throws -> CLIResult {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no cohort binary at \(binary): run `swift build -c release` (make test does)"])
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable ?? binary)
        p.arguments = args
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        p.environment = env
        // Output goes to files, so a chatty child can never block on a full pipe.
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("stdout"), errURL = dir.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        let killAt = killAfter.map { Date().addingTimeInterval($0) }
        while p.isRunning && Date() < deadline {
            if let killAt, Date() >= killAt { kill(p.processIdentifier, SIGKILL); break }
            usleep(2_000)
        }
        if p.isRunning {
            // SIGTERM first (mpirun passes it on to its ranks, which may be stopping
            // cleanly), SIGKILL if that does not end it within 5 s.
            p.terminate()
            let hard = Date().addingTimeInterval(5)
            while p.isRunning && Date() < hard { usleep(10_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        }
        p.waitUntilExit()
        try out.close(); try err.close()
        return CLIResult(status: p.terminationStatus,
                         stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }

    /// Runs `cohort args…` as `ranks` MPI ranks (oversubscribed, unbound) the same way as `run`.
    static func mpirun(_ ranks: Int, _ args: [String], timeout: Double = 300) throws -> CLIResult {
        try runExecutable("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                                           "-np", "\(ranks)", binary] + args, timeout: timeout)
    }

    /// Runs another executable (e.g. mpirun) the same way as `run`.
    static func runExecutable(_ executable: String, _ args: [String], timeout: Double = 300) throws -> CLIResult {
        try run(args, timeout: timeout, executable: executable)
    }

    static func temporaryDirectory() throws -> URL {
        let d = FileManager.default.temporaryDirectory.appendingPathComponent("cohort-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        return d
    }

    static func readJSON(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }
}
