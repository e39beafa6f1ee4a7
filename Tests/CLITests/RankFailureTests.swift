// Failures across ranks end the job quickly and name the rank: a rank killed
// with SIGKILL, and a rank whose model differs from rank 0's.
import Foundation
import Testing

@Suite(.serialized) struct RankFailureTests {
    @Test func mismatchedModelOnOneRankIsAnErrorNotAHang() throws {
        let r = try CLI.runExecutable("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                                                       "-np", "1", CLI.binary, "train", "--steps", "5", "--hidden", "64", ":",
                                                       "-np", "1", CLI.binary, "train", "--steps", "5", "--hidden", "32"], timeout: 120)
        #expect(r.status != 0)
        #expect(r.output.contains("model mismatch") && r.output.contains("rank 1") && r.output.contains("[32, 64]"), "\(r.output)")
    }

    /// Pids of processes whose environment says they are `rank` and whose command line holds `marker`.
    func pid(ofRank rank: Int, marker: String) -> Int32? {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                  let cmd = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline")),
                  String(decoding: cmd, as: UTF8.self).contains(marker),
                  let env = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/environ")) else { continue }
            if String(decoding: env, as: UTF8.self).split(separator: "\0").contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }

    @Test func killedRankEndsTheJobWithinSeconds() throws {
        let marker = "rankdeath-\(UUID().uuidString)"
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "2", CLI.binary,
                       "train", "--steps", "1000000", "--log-every", "100000", "--metadata", "marker=\(marker)"]
        let out = dir.appendingPathComponent("out")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        let handle = try FileHandle(forWritingTo: out)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        defer { if p.isRunning { p.terminate() } }
        var victim: Int32?
        for _ in 0..<100 where victim == nil { usleep(100_000); victim = pid(ofRank: 1, marker: marker) }
        guard let victim else { Issue.record("rank 1 never started"); return }
        usleep(500_000)
        let killed = Date()
        kill(victim, SIGKILL)
        while p.isRunning && Date().timeIntervalSince(killed) < 30 { usleep(50_000) }
        let seconds = Date().timeIntervalSince(killed)
        #expect(!p.isRunning, "mpirun still running \(seconds) s after rank 1 was killed")
        if p.isRunning { p.terminate(); p.waitUntilExit() }
        try handle.close()
        let text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        #expect(p.terminationStatus != 0)
        #expect(seconds < 10, "took \(seconds) s")
        #expect(text.contains("rank 1"), "\(text)")
    }
}
