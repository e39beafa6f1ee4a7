// The supervised child: exit status, the stderr tail, and terminate(grace:)
// reaching the whole process group, including children that ignore SIGTERM
// and grandchildren.
import CohortProcessTestSupport
import Foundation
import Testing
@testable import CohortProcess

@Suite struct SupervisedProcessTests {
    func start(_ script: String, env: [String: String] = [:]) throws -> SupervisedProcess {
        try SupervisedProcess(argv: ["/bin/sh", "-c", script], environment: baseEnvironment.merging(env) { $1 },
                              forwardOutput: false)
    }

    @Test func exitCodesAndSignals() throws {
        #expect(try start("exit 3").wait(timeout: 10) == .exited(3))
        #expect(try start("kill -SEGV $$").wait(timeout: 10) == .signaled(11))
    }

    @Test func runningAndWaitTimeout() throws {
        let p = try start("sleep 0.5")
        #expect(p.isRunning && p.exitStatus == nil)
        #expect(p.wait(timeout: 0.05) == nil)
        #expect(p.wait(timeout: 10) == .exited(0))
        #expect(!p.isRunning && p.exitStatus == .exited(0))
    }

    @Test func keepsTheLastStderrLines() throws {
        let p = try SupervisedProcess(argv: ["/bin/sh", "-c", "i=1; while [ $i -le 300 ]; do echo \"line $i\" >&2; echo out; i=$((i+1)); done; printf 'no newline' >&2"],
                                      environment: baseEnvironment, forwardOutput: false, stderrTailLines: 200)
        #expect(p.wait(timeout: 10) == .exited(0))
        let tail = p.stderrTail
        #expect(tail.count == 200)
        #expect(tail.first == "line 102" && tail[198] == "line 300" && tail.last == "no newline")
    }

    @Test func passesTheEnvironment() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = try start("echo \"$COHORT_RUN_ID\" > \(dir)/env", env: ["COHORT_RUN_ID": "r-1"])
        #expect(p.wait(timeout: 10) == .exited(0))
        #expect(try String(contentsOfFile: dir + "/env", encoding: .utf8) == "r-1\n")
    }

    @Test func terminateStopsACooperativeChildQuickly() throws {
        let p = try start("trap 'exit 7' TERM; while true; do sleep 0.05; done")
        usleep(200_000)
        let begin = Date()
        #expect(p.terminate(grace: 5) == .exited(7))
        #expect(Date().timeIntervalSince(begin) < 2)
    }

    @Test func terminateKillsAChildIgnoringSIGTERM() throws {
        let p = try start("trap '' TERM; echo ready >&2; while true; do sleep 0.05; done")
        #expect(eventually { p.stderrTail == ["ready"] })
        let begin = Date()
        #expect(p.terminate(grace: 0.5) == .signaled(9))
        let elapsed = Date().timeIntervalSince(begin)
        #expect(elapsed >= 0.45 && elapsed < 3)
    }

    @Test func terminateKillsGrandchildren() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // One grandchild that dies with the group's SIGTERM, one that ignores it
        // and outlives its parent until the SIGKILL after the grace period.
        let p = try start("sleep 60 & echo $! > \(dir)/a; (trap '' TERM; exec sleep 60) & echo $! > \(dir)/b; wait")
        let a = try #require(readPid(dir + "/a"))
        let b = try #require(readPid(dir + "/b"))
        #expect(isAlive(a) && isAlive(b))
        let status = p.terminate(grace: 0.5)
        #expect(status == .signaled(15))
        #expect(eventually { !isAlive(a) && !isAlive(b) })
    }

    @Test func missingProgramThrows() {
        #expect { try SupervisedProcess(argv: ["no-such-program-xyz"], environment: baseEnvironment) } throws: {
            "\($0)" == "`no-such-program-xyz`: cannot start: No such file or directory"
        }
    }
}
