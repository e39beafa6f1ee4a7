// `runWithTimeout`: output and status, and that neither a slow command nor a
// background process it leaves behind can make the call hang.
import CohortProcessTestSupport
import Foundation
import Testing
@testable import CohortProcess

@Suite struct CommandRunnerTests {
    @Test func capturesOutputAndStatus() throws {
        let r = try runWithTimeout(argv: ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], timeout: 5)
        #expect(r == CommandResult(status: .exited(3), stdout: "out\n", stderr: "err\n", timedOut: false))
        #expect(r.status.description == "exit code 3")
    }

    @Test func reportsSignals() throws {
        let r = try runWithTimeout(argv: ["/bin/sh", "-c", "kill -9 $$"], timeout: 5)
        #expect(r.status == .signaled(9) && r.status.shellCode == 137)
        #expect(r.status.description == "signal 9 (SIGKILL)")
    }

    @Test func usesTheGivenEnvironmentAndPATHLookup() throws {
        let r = try runWithTimeout(argv: ["sh", "-c", "echo $COHORT_X"], timeout: 5,
                                   environment: ["PATH": "/usr/bin:/bin", "COHORT_X": "42"])
        #expect(r.stdout == "42\n")
    }

    @Test func timeoutKillsTheWholeGroup() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let start = Date()
        let r = try runWithTimeout(argv: ["/bin/sh", "-c", "sleep 30 & echo $! > \(dir)/pid; echo started; wait"], timeout: 0.5)
        let elapsed = Date().timeIntervalSince(start)
        #expect(r.timedOut && r.status == .signaled(9))
        #expect(r.stdout == "started\n")
        #expect(elapsed < 2.5)
        let grandchild = try #require(readPid(dir + "/pid"))
        #expect(eventually { !isAlive(grandchild) })
    }

    @Test func backgroundProcessHoldingThePipeDoesNotHang() throws {
        let start = Date()
        let r = try runWithTimeout(argv: ["/bin/sh", "-c", "sleep 30 & echo done"], timeout: 10)
        #expect(r.status == .exited(0) && !r.timedOut && r.stdout == "done\n")
        #expect(Date().timeIntervalSince(start) < 2)
    }

    @Test func missingProgramThrows() {
        #expect { try runWithTimeout(argv: ["/nonexistent/probe"], timeout: 1) } throws: {
            "\($0)" == "`/nonexistent/probe`: cannot start: No such file or directory"
        }
    }

    @Test func outputIsCappedButDrained() throws {
        let r = try runWithTimeout(argv: ["/bin/sh", "-c", "head -c 300000 /dev/zero"], timeout: 5, outputLimit: 1000)
        #expect(r.status == .exited(0) && r.stdout.utf8.count == 1000)
    }
}
