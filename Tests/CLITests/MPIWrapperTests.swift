// The MPI wrapper under real mpirun: every operation checked on 1 (singleton),
// 2 and 4 (oversubscribed) ranks by the MPISelfTest executable.
import Foundation
import Testing

@Suite(.serialized) struct MPIWrapperTests {
    var selfTest: String { URL(fileURLWithPath: CLI.binary).deletingLastPathComponent().appendingPathComponent("MPISelfTest").path }

    func run(_ executable: String, _ args: [String], timeout: Double = 120) throws -> CLIResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out"), err = dir.appendingPathComponent("err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: out)
        p.standardError = try FileHandle(forWritingTo: err)
        try p.run()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate() }
        p.waitUntilExit()
        return CLIResult(status: p.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    @Test func singletonWithoutMpirun() throws {
        let r = try run(selfTest, [])
        #expect(r.status == 0 && r.stdout.contains("MPI SELFTEST OK rank 0/1"), "\(r.output)")
    }

    @Test(arguments: [2, 4]) func underMpirun(ranks: Int) throws {
        let r = try run("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                                         "-np", "\(ranks)", selfTest])
        #expect(r.status == 0, "\(r.output)")
        for k in 0..<ranks { #expect(r.stdout.contains("MPI SELFTEST OK rank \(k)/\(ranks)"), "\(r.output)") }
    }
}
