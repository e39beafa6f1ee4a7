// The rank side of supervision under real mpirun: SIGTERM to one rank checkpoints
// and exits 0 (and the resumed run ends bit-identical), injected faults (kill,
// stop) end the job within seconds, the collective deadline turns a hang into an
// error naming step, operation and rank, and user errors exit 2.
import Foundation
import Testing

@Suite(.serialized) struct RankSupervisionTests {
    static let mpirun = ["mpirun", "--allow-run-as-root", "--oversubscribe", "--bind-to", "none"]

    /// `mpirun -np n cohort args…` with `exported` variables passed to every rank.
    func mpirun(_ n: Int, _ args: [String], environment: [String: String] = [:], timeout: Double = 60) throws -> CLIResult {
        let exports = environment.keys.sorted().flatMap { ["-x", $0] }
        return try CLI.run(Self.mpirun + exports + ["-np", "\(n)", CLI.binary] + args, timeout: timeout,
                           environment: environment, executable: "/usr/bin/env")
    }

    func sha(_ summary: String) throws -> String { try CLI.readJSON(summary)["weights_sha256"] as? String ?? "" }

    @Test func sigtermToOneRankCheckpointsAndTheResumedRunEndsBitIdentical() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = ["train", "--steps", "1500", "--deterministic", "--checkpoint-every", "1000"]
        let reference = dir.appendingPathComponent("reference.json").path
        let r0 = try CLI.run(base + ["--log-every", "10000", "--summary-json", reference])
        #expect(r0.status == 0, "\(r0.output)")

        let ckpt = dir.appendingPathComponent("ckpt-\(UUID().uuidString)").path
        let job = try BackgroundJob(Self.mpirun + ["-np", "2", CLI.binary] + base + ["--log-every", "1", "--checkpoint-dir", ckpt], in: dir)
        defer { job.kill() }
        #expect(job.wait(for: "step 20/", timeout: 30), "\(job.output)")
        guard let victim = pid(ofRank: 1, marker: ckpt) else { Issue.record("rank 1 not found"); return }
        kill(victim, SIGTERM)
        let status = job.finish(timeout: 20)
        let text = job.output
        #expect(status == 0, "\(text)")
        #expect(text.contains("[rank 1/2] received SIGTERM"), "\(text)")
        // Both ranks stop at the same step and rank 0 commits that step's checkpoint.
        let stops = text.split(separator: "\n").compactMap { $0.firstMatch(of: #/preempted at step (\d+): checkpoint (\S+)/#) }
        #expect(stops.count == 2 && Set(stops.map { String($0.1) }).count == 1, "\(text)")
        guard let stop = stops.first, let step = Int(stop.1) else { return }
        #expect(step > 20 && step < 1500)
        #expect(String(stop.2).hasSuffix(String(format: "step-%08d", step)))
        #expect(FileManager.default.fileExists(atPath: String(stop.2) + "/manifest.pb"), "\(text)")

        let summary = dir.appendingPathComponent("resumed.json").path
        let r = try mpirun(2, base + ["--log-every", "10000", "--checkpoint-dir", ckpt, "--resume", "auto", "--summary-json", summary])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.stderr.contains("resumed from \(stop.2)"), "\(r.stderr)")
        #expect(try sha(summary) == sha(reference), "the preempted-and-resumed run differs from an uninterrupted one")
    }

    @Test func sigtermWithoutACheckpointDirectoryStillExitsZero() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let marker = "sigterm-\(UUID().uuidString)"
        let job = try BackgroundJob([CLI.binary, "train", "--steps", "1000000", "--hidden", "64", "--log-every", "1",
                                     "--metadata", "marker=\(marker)"], in: dir)
        defer { job.kill() }
        #expect(job.wait(for: "step 20/", timeout: 30), "\(job.output)")
        kill(job.pid, SIGTERM)
        #expect(job.finish(timeout: 10) == 0, "\(job.output)")
        #expect(job.output.contains("no checkpoint saved (no --checkpoint-dir)"), "\(job.output)")
    }

    @Test func killedRankEndsTheJobAndTheNextAttemptRunsClean() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let ckpt = dir.appendingPathComponent("ckpt").path
        let args = ["train", "--steps", "30", "--hidden", "64", "--log-every", "1000", "--checkpoint-dir", ckpt,
                    "--checkpoint-every", "2", "--resume", "auto", "--inject-fault", "kill@5:rank=1"]
        let t0 = Date()
        let r = try mpirun(2, args, timeout: 30)
        let seconds = Date().timeIntervalSince(t0)
        #expect(r.status != 0, "\(r.output)")
        #expect(seconds < 15, "took \(seconds) s")
        #expect(r.output.contains("fault injection: kill at step 5 on rank 1"), "\(r.output)")
        // The last good checkpoint is the one before the fault, and it verifies.
        let names = try FileManager.default.contentsOfDirectory(atPath: ckpt).filter { $0.hasPrefix("step-") }.sorted()
        #expect(names.last == "step-00000004", "\(names)")
        let verify = try CLI.run(["ckpt", "verify", ckpt + "/step-00000004"])
        #expect(verify.status == 0, "\(verify.output)")

        // A restart is attempt 1: the same spec injects nothing and the run completes from step 4.
        let again = try mpirun(2, args, environment: ["COHORT_ATTEMPT": "1"], timeout: 30)
        #expect(again.status == 0, "\(again.output)")
        #expect(!again.output.contains("fault injection"), "\(again.output)")
        #expect(again.stderr.contains("resumed from \(ckpt)/step-00000004"), "\(again.stderr)")
    }

    @Test func stoppedRankHitsTheCollectiveDeadline() throws {
        let marker = "stopped-\(UUID().uuidString)"
        defer { for rank in 0..<2 { if let p = pid(ofRank: rank, marker: marker) { kill(p, SIGKILL) } } }
        let t0 = Date()
        let r = try mpirun(2, ["train", "--steps", "30", "--hidden", "64", "--log-every", "1000", "--collective-timeout", "3",
                               "--inject-fault", "stop@5:rank=1", "--metadata", "marker=\(marker)"], timeout: 60)
        let seconds = Date().timeIntervalSince(t0)
        #expect(r.status == 3, "\(r.output)")
        #expect(seconds >= 3 && seconds < 20, "took \(seconds) s")
        #expect(r.output.contains("fault injection: stop at step 5 on rank 1"), "\(r.output)")
        #expect(r.output.contains("Error: collective timeout on rank 0 at step 5: allreduce of the step loss did not complete within 3 s"),
                "\(r.output)")
        #expect(r.output.contains("ranks 0–1"), "\(r.output)")
    }

    @Test func userErrorsExitTwoAndNameTheCulprit() throws {
        let bad = try CLI.run(["train", "--steps", "3", "--inject-fault", "kill@5,explode@x"])
        #expect(bad.status == 2, "\(bad.output)")
        #expect(bad.stderr.contains("Error: --inject-fault") && bad.stderr.contains("explode@x"), "\(bad.stderr)")
        let env = try CLI.run(["train", "--steps", "3"], environment: ["COHORT_FAULT": "kill@3:rank=one"])
        #expect(env.status == 2, "\(env.output)")
        #expect(env.stderr.contains("COHORT_FAULT") && env.stderr.contains("rank=one"), "\(env.stderr)")
        let data = try CLI.run(["train", "--steps", "3", "--data", "/nonexistent/mnist"])
        #expect(data.status == 2, "\(data.output)")
        #expect(data.stderr.contains("/nonexistent/mnist"), "\(data.stderr)")
        // Under mpirun the code reaches mpirun's own exit status (what `cohort launch` classifies).
        let ranks = try mpirun(2, ["train", "--steps", "3", "--data", "/nonexistent/mnist"])
        #expect(ranks.status == 2, "\(ranks.output)")
        let control = try CLI.run(["train", "--steps", "3"], environment: ["COHORT_CONTROL_ADDR": "127.0.0.1:1", "COHORT_RUN_ID": "r",
                                                                          "COHORT_RUN_SECRET": "xyz", "COHORT_ATTEMPT": "0"])
        #expect(control.status == 2, "\(control.output)")
        #expect(control.stderr.contains("COHORT_RUN_SECRET"), "\(control.stderr)")
    }

    @Test func unreachableCoordinatorDoesNotStopTraining() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let summary = dir.appendingPathComponent("s.json").path
        let env = ["COHORT_CONTROL_ADDR": "127.0.0.1:1", "COHORT_RUN_ID": "run-x", "COHORT_RUN_SECRET": String(repeating: "5a", count: 32),
                   "COHORT_ATTEMPT": "0", "COHORT_RESTART_COUNT": "0", "COHORT_HEARTBEAT_TIMEOUT": "1"]
        let r = try mpirun(2, ["train", "--steps", "40", "--hidden", "64", "--log-every", "1000", "--summary-json", summary],
                           environment: env, timeout: 60)
        #expect(r.status == 0, "\(r.output)")
        #expect(try CLI.readJSON(summary)["steps"] as? Int == 40)
        // Never connected, so a heartbeat timeout of 1 s is no reason to stop.
        #expect(!r.output.contains("lost the coordinator") && !r.output.contains("preempted"), "\(r.output)")
    }

    /// The pid of the process whose command line holds `marker` and whose environment says it is `rank`.
    func pid(ofRank rank: Int, marker: String) -> Int32? {
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                  let cmd = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/cmdline")),
                  String(decoding: cmd, as: UTF8.self).contains(marker),
                  !String(decoding: cmd, as: UTF8.self).contains("mpirun"),
                  let env = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(entry)/environ")) else { continue }
            if String(decoding: env, as: UTF8.self).split(separator: "\0").contains("OMPI_COMM_WORLD_RANK=\(rank)") { return pid }
        }
        return nil
    }
}

/// A command running in the background with its output in a file, for tests that act on it mid-run.
final class BackgroundJob {
    private let process = Process()
    private let log: URL
    private let handle: FileHandle

    init(_ command: [String], in dir: URL) throws {
        log = dir.appendingPathComponent("job-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        handle = try FileHandle(forWritingTo: log)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    /// Polls the output for `text`; false after `timeout` seconds or when the job ended without it.
    func wait(for text: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if output.contains(text) { return true }
            if !process.isRunning { return output.contains(text) }
            usleep(10_000)
        }
        return false
    }

    /// Waits up to `timeout` seconds for the job to end; its exit status, or nil (then it is killed).
    func finish(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(); return nil }
        return process.terminationStatus
    }

    /// Ends the job if it still runs: SIGTERM (mpirun then ends its ranks; `cohort train` stops at
    /// the next step), SIGKILL if it is still there 5 s later.
    func kill() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? handle.close()
    }
}
