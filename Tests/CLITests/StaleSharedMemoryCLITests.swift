// The real leak and its cleanup: SIGKILL mpirun during a 2-rank `cohort train`,
// see Open MPI's vader segments and session directory stay behind, then check the
// next `cohort launch` removes exactly those (and logs them) once nothing uses them.
import Foundation
import Testing

@Suite(.serialized) struct StaleSharedMemoryCLITests {
    /// Pids whose parent is `parent`.
    func children(of parent: Int32) -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == parent
        }
    }

    func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        return !"ZX".contains(stat[stat.index(close, offsetBy: 2)])
    }

    func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline { if condition() { return true }; usleep(50_000) }
        return condition()
    }

    @Test func theNextLaunchRemovesWhatAKilledJobLeft() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mpirun = Process()
        mpirun.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        mpirun.arguments = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "2", CLI.binary,
                            "train", "--steps", "1000000", "--global-batch", "64", "--hidden", "32", "--log-every", "1000000"]
        mpirun.standardOutput = FileHandle.nullDevice
        mpirun.standardError = FileHandle.nullDevice
        try mpirun.run()
        let pid = mpirun.processIdentifier
        defer { if mpirun.isRunning { kill(pid, SIGKILL) }; mpirun.waitUntilExit() }
        // mpirun's session directory names the job; its ranks' vader segments carry the job family.
        let tmp = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var session: String?, segments: [String] = []
        let up = waitFor(60) {
            session = session ?? ((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? [])
                .filter { $0.hasPrefix("ompi.") }.map { "\(tmp)/\($0)/pid.\(pid)" }.first { FileManager.default.fileExists(atPath: $0 + "/contact.txt") }
            guard let session, let contact = try? String(contentsOfFile: session + "/contact.txt", encoding: .utf8),
                  let job = contact.split(separator: ".").first.flatMap({ UInt32($0) }) else { return false }
            let family = String(job >> 16, radix: 16)
            segments = ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? [])
                .filter { $0.hasPrefix("vader_segment.") && $0.split(separator: ".").dropLast().last?.hasPrefix(family) == true }
                .map { "/dev/shm/" + $0 }
            return segments.count == 2
        }
        #expect(up, "no session directory or vader segments for mpirun \(pid): \(session ?? "none"), \(segments)")
        guard up, let session else { return }
        let ranks = children(of: pid)
        kill(pid, SIGKILL)
        mpirun.waitUntilExit()
        #expect(waitFor(20) { !ranks.contains(where: alive) }, "ranks \(ranks) outlived mpirun")
        let leftovers = segments + [session]
        for path in leftovers { #expect(FileManager.default.fileExists(atPath: path), "\(path) was cleaned up by Open MPI after all") }
        usleep(5_500_000)   // the sweep leaves files modified in the last 5 s alone

        let ckpt = dir.appendingPathComponent("ckpt").path
        let r = try CLI.run(["launch", "--np", "1", "--", "--steps", "2", "--global-batch", "64", "--hidden", "32", "--checkpoint-dir", ckpt], timeout: 120)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stderr.contains("stale Open MPI shared-memory file"), "\(r.stderr)")
        for path in leftovers { #expect(!FileManager.default.fileExists(atPath: path), "\(path) is still there") }
        let events = try String(contentsOfFile: ckpt + "/launch-events.jsonl", encoding: .utf8)
        let sweep = events.split(separator: "\n").first { $0.contains("\"stale_shm_removed\"") } ?? ""
        for path in leftovers { #expect(sweep.contains("\"\(path)\""), "\(path) not in \(sweep)") }
    }
}
