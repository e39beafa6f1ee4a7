// `cohort launch` on this machine with the real trainer: user errors are one
// error and no restart loop, exhausted restarts end with a summary of every
// failure, a SIGTERM to the launcher leaves a checkpoint the same command
// continues from, and a crashed launcher leaves no job behind.
// (Multi-host failures: checks/launch-netns.sh.)
import Foundation
import Testing

@Suite(.serialized) struct LaunchTests {
    let train = ["--steps", "60", "--global-batch", "32", "--hidden", "32", "--log-every", "1000", "--checkpoint-every", "5"]

    func events(_ dir: String) throws -> [String] {
        try String(contentsOfFile: dir + "/launch-events.jsonl", encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func launches(_ dir: String) throws -> Int { try events(dir).filter { $0.contains("\"event\":\"mpirun\"") }.count }

    /// Waits up to `timeout` s for `condition`.
    func eventually(_ timeout: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end { if condition() { return true }; usleep(50_000) }
        return condition()
    }

    /// True while a rank of the job writing into `dir` is alive.
    func ranksAlive(_ dir: String) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
        p.arguments = ["-f", "cohort train .*--checkpoint-dir \(dir)( |$)"]
        p.standardOutput = FileHandle.nullDevice
        try? p.run(); p.waitUntilExit()
        return p.terminationStatus == 0
    }

    @Test func missingDataIsOneErrorWithoutRestarts() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["launch", "--np", "2", "--max-restarts", "3", "--", "--data", "/nonexistent/mnist", "--checkpoint-dir", dir], timeout: 60)
        #expect(r.status == 2, "\(r.output)")
        #expect(r.stderr.contains("/nonexistent/mnist"), "\(r.stderr)")
        #expect(try launches(dir) == 1)
        #expect(try events(dir).last?.contains("\"to\":\"gaveUp\"") == true)
    }

    @Test func incompatibleResumeIsOneErrorWithoutRestarts() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try CLI.run(["train"] + train + ["--steps", "5", "--checkpoint-dir", dir + "/a"], timeout: 60)
        #expect(first.status == 0, "\(first.output)")
        let r = try CLI.run(["launch", "--np", "2", "--", "--hidden", "48", "--resume", dir + "/a/step-00000005",
                             "--checkpoint-dir", dir + "/b"], timeout: 60)
        #expect(r.status == 2, "\(r.output)")
        #expect(r.stderr.contains("step-00000005"), "\(r.stderr)")
        #expect(try launches(dir + "/b") == 1)
    }

    @Test func exhaustedRestartsSummarizeEveryFailure() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["launch", "--np", "2", "--max-restarts", "1", "--inject-fault", "exit@3:rank=1:attempt=0,exit@4:rank=0:attempt=1",
                             "--"] + train + ["--checkpoint-dir", dir], timeout: 90)
        #expect(r.status == 1, "\(r.output)")
        #expect(r.stderr.contains("gave up") && r.stderr.contains("2 failures"), "\(r.stderr)")
        #expect(r.stderr.contains("attempt 0") && r.stderr.contains("attempt 1"), "\(r.stderr)")
        #expect(try launches(dir) == 2)
    }

    @Test func sigtermToTheLauncherCheckpointsAndTheSameCommandContinues() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["launch", "--np", "2", "--inject-fault", "slow@1:ms=30", "--"] + train + ["--steps", "400", "--checkpoint-dir", dir, "--summary-json", dir + "/s.json"]
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        #expect(eventually(60) { (try? events(dir).contains { $0.contains("checkpointSaved") }) ?? false })
        kill(p.processIdentifier, SIGTERM)
        #expect(eventually(60) { !p.isRunning })
        p.waitUntilExit()
        #expect(p.terminationStatus == 143)
        let stopped = try events(dir).filter { $0.contains("\"kind\":\"preempted\"") }
        #expect(stopped.count == 2, "both ranks report the preemption: \(stopped)")
        #expect(!ranksAlive(dir))
        // The same command, without the slow fault (it belongs to attempt 0 anyway), finishes from there.
        let again = try CLI.run(["launch", "--np", "2", "--"] + train + ["--steps", "400", "--checkpoint-dir", dir], timeout: 120)
        #expect(again.status == 0, "\(again.output)")
        #expect(again.stderr.contains("resumed from"), "\(again.stderr)")
    }

    @Test func crashedLauncherLeavesNoJobBehind() throws {
        let dir = try CLI.temporaryDirectory().path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["launch", "--np", "2", "--heartbeat-timeout", "3", "--inject-fault", "launcher-crash@10,slow@1:ms=30", "--"]
                            + train + ["--steps", "2000", "--checkpoint-dir", dir], timeout: 60)
        #expect(r.status != 0, "the launcher SIGKILLs itself")
        // The ranks notice the lost coordinator after the heartbeat timeout, checkpoint and exit.
        #expect(eventually(30) { !ranksAlive(dir) }, "ranks still running without their launcher")
        let again = try CLI.run(["launch", "--np", "2", "--"] + train + ["--steps", "2000", "--checkpoint-dir", dir], timeout: 120)
        #expect(again.status == 0, "\(again.output)")
        #expect(again.stderr.contains("resumed from"), "\(again.stderr)")
    }
}
