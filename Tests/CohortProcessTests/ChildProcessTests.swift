// `ChildProcess` / `runChild`: captured, discarded, appended and merged output,
// exit codes and signals as `Process.terminationStatus` reported them, deadlines;
// and the argv the one `mpirun` builder produces.
import CohortProcessTestSupport
import Foundation
import Testing
@testable import CohortProcess

@Suite struct ChildProcessTests {
    @Test func capturesBothStreamsAndTheStatus() throws {
        let r = try runChild(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], stdout: .capture, stderr: .capture)
        #expect(r.status == .exited(3) && r.status.processStatus == 3)
        #expect(String(decoding: r.stdout, as: UTF8.self) == "out\n" && String(decoding: r.stderr, as: UTF8.self) == "err\n")
    }

    @Test func mergesDiscardsAndAppends() throws {
        let merged = try runChild(["/bin/sh", "-c", "echo a; echo b >&2"], stdout: .capture, stderr: .sameAsStdout)
        #expect(String(decoding: merged.stdout, as: UTF8.self) == "a\nb\n" && merged.stderr.isEmpty)
        let quiet = try runChild(["/bin/sh", "-c", "echo a; echo b >&2"], stdout: .discard, stderr: .capture)
        #expect(quiet.stdout.isEmpty && String(decoding: quiet.stderr, as: UTF8.self) == "b\n")
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("header\n".utf8).write(to: URL(fileURLWithPath: dir + "/log"))
        _ = try runChild(["/bin/sh", "-c", "echo a; echo b >&2"], stdout: .append(path: dir + "/log"), stderr: .sameAsStdout)
        #expect(try String(contentsOfFile: dir + "/log", encoding: .utf8) == "header\na\nb\n")
    }

    @Test func environmentAndSignals() throws {
        let r = try runChild(["sh", "-c", "echo $COHORT_X"], environment: ["COHORT_X": "42", "PATH": baseEnvironment["PATH"] ?? "/bin"], stdout: .capture)
        #expect(String(decoding: r.stdout, as: UTF8.self) == "42\n")
        let killed = try runChild(["/bin/sh", "-c", "kill -9 $$"])
        #expect(killed.status == .signaled(9) && killed.status.processStatus == 9)
    }

    @Test func waitWithADeadlineAndTerminate() throws {
        let child = try ChildProcess(argv: ["/bin/sh", "-c", "trap 'exit 5' TERM; while true; do sleep 0.05; done"])
        #expect(child.exitStatus == nil && child.wait(timeout: 0.2) == nil)
        child.signal()
        #expect(child.wait(timeout: 10) == .exited(5) && child.wait() == .exited(5))
    }

    @Test func missingProgramThrows() {
        #expect { try runChild(["/nonexistent/program"]) } throws: {
            "\($0)" == "`/nonexistent/program`: cannot start: No such file or directory"
        }
    }

    @Test func mpirunArgv() {
        let cv = MPIRun(ranks: 4, allowRunAsRoot: false, oversubscribe: true)
        #expect(cv.argv(["cohort", "train"]) == ["mpirun", "-np", "4", "--bind-to", "none", "--oversubscribe", "cohort", "train"])
        let w5 = MPIRun(ranks: 2, allowRunAsRoot: true, exports: ["OPENBLAS_NUM_THREADS=1"])
        #expect(w5.options == ["--allow-run-as-root", "-np", "2", "--bind-to", "none", "-x", "OPENBLAS_NUM_THREADS=1"])
        let placed = MPIRun(ranks: 3, hosts: "h1:2,h2:1", allowRunAsRoot: false, bindTo: nil, exports: ["A"], extraArguments: ["--mca", "btl", "tcp"])
        #expect(placed.options == ["-np", "3", "--host", "h1:2,h2:1", "-x", "A", "--mca", "btl", "tcp"])
    }
}
