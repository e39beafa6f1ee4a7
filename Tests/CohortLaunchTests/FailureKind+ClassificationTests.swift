// Classification of failed attempts from OpenMPI 4.1.4's real messages
// (OpenMPIMessages.swift), the ranks' reports and the exit status; plus two
// faults provoked under a real mpirun and classified end to end.
import CohortProcessTestSupport
import Foundation
import Testing
@testable import CohortLaunch
import CohortProcess

@Suite struct FailureClassifierTests {
    typealias M = OpenMPIMessages

    func kind(_ text: String, _ exit: TerminationStatus, reports: [RankReport] = [], hosts: [String] = []) -> FailureKind? {
        classify(exit: exit, stderrTail: M.lines(text), rankReports: reports, hosts: hosts)
    }

    @Test func successIsNoFailure() {
        #expect(kind("", .exited(0)) == nil)
    }

    @Test func rankKilledBySignal() {
        let k = kind(M.rankKilled, .exited(137))
        #expect(k == .rankCrashed(rank: 1, detail: "rank 1 on node vm exited on signal 9 (Killed)"))
        #expect(k?.isRetryable == true)
        #expect(kind(M.rankSegfault, .exited(139)) == .rankCrashed(rank: 1, detail: "rank 1 on node vm exited on signal 11 (Segmentation fault)"))
    }

    @Test func exitCode2IsAUserError() {
        let k = kind(M.rankExit2, .exited(2))
        #expect(k == .userError(detail: "rank 1 exited with code 2 (exit code 2: a user error)"))
        #expect(k?.isRetryable == false)
        // When every rank exits 2 at once, mpirun names no rank: its status stands for them.
        #expect(kind(M.allExit2Immediately, .exited(2)) == .userError(detail: "mpirun exited with code 2 (a rank's code for a user error)"))
    }

    @Test func mpiAbortAndExitWithoutFinalize() {
        #expect(kind(M.mpiAbort, .exited(3)) == .rankCrashed(rank: 1, detail: "rank 1 called MPI_Abort on MPI_COMM_WORLD with error code 3"))
        let abort2 = M.mpiAbort.replacingOccurrences(of: "errorcode 3", with: "errorcode 2")
        #expect(kind(abort2, .exited(2))?.isRetryable == false)
        #expect(kind(M.exitWithoutFinalize, .exited(1)) == .rankCrashed(rank: 1, detail: "rank 1 on node vm exited without calling MPI_Finalize"))
    }

    @Test func lostNodes() {
        #expect(kind(M.daemonLost, .exited(205)) == .nodeLost(host: "127.0.0.3", detail: "OpenMPI lost communication with the daemon on node 127.0.0.3"))
        #expect(kind(M.daemonNotStarted, .exited(255)) == .nodeLost(host: "127.0.0.3", detail: "OpenMPI could not start its daemon on node 127.0.0.3"))
        #expect(kind(M.daemonFailed, .exited(1)) == .nodeLost(host: nil, detail: "an OpenMPI daemon failed after launch"))
        #expect(kind(M.daemonLost, .exited(205))?.lostHost == "127.0.0.3")
        // ssh shortens names; the host list maps them back.
        let short = "ssh: Could not resolve hostname node7: Name or service not known\n" + M.daemonNotStarted
            .replacingOccurrences(of: "ssh: connect to host 127.0.0.3 port 22: Connection refused\n", with: "")
        #expect(kind(short, .exited(255), hosts: ["node6.lab", "node7.lab"])?.lostHost == "node7.lab")
    }

    @Test func launcherErrorsAreNotRetryable() {
        #expect(kind(M.notEnoughSlots, .exited(1)) == .launcherError(detail: "mpirun: not enough slots available (3 requested); pass --oversubscribe or add hosts"))
        #expect(kind(M.missingExecutable, .exited(132)) == .launcherError(detail: "mpirun cannot execute /nonexistent/prog on node vm"))
        #expect(kind(M.unknownOption, .exited(1)) == .launcherError(detail: #"mpirun: unknown option "--bogus-flag""#))
        #expect(kind(M.notEnoughSlots, .exited(1))?.isRetryable == false)
    }

    @Test func environmentErrorsAreReportedAsTheCauseAndNotRetried() {
        let disk = RankReport(rank: 0, kind: "environmentError",
                              detail: "checkpoint /ckpt/.tmp-step-00000020/data-00000.bin: write failed: No space left on device (ENOSPC)")
        let timeout = RankReport(rank: 1, kind: "collectiveTimeout", detail: "allreduce of the step loss exceeded 300 s")
        let k = kind(M.rankKilled, .exited(2), reports: [timeout, disk])
        #expect(k == .environmentError(detail: "rank 0: " + disk.detail))
        #expect(k?.isRetryable == false)
        #expect(k?.name == "environmentError")
        var policy = RestartPolicy(maxRestarts: 3)
        let decision = policy.recordFailure(FailureRecord(attempt: 0, worldSize: 2, hosts: [], kind: k!))
        guard case let .giveUp(reason) = decision else { Issue.record("restarted after \(k!)"); return }
        #expect(reason.contains("No space left on device") && reason.contains("/ckpt/"), "\(reason)")
    }

    @Test func rankReportsTakePrecedence() {
        let timeout = RankReport(rank: 0, kind: "collectiveTimeout", detail: "allreduce of bucket 3 exceeded 600 s")
        let preempted = RankReport(rank: 2, kind: "preempted", detail: "SIGTERM from the scheduler")
        let user = RankReport(rank: 1, kind: "userError", detail: "--data: no such file /data/train.idx")
        #expect(kind(M.rankKilled, .exited(137), reports: [timeout, user]) == .userError(detail: "rank 1: --data: no such file /data/train.idx"))
        #expect(kind(M.rankKilled, .exited(143), reports: [timeout, preempted]) == .preempted(detail: "rank 2: SIGTERM from the scheduler"))
        // A crash is the cause; the other ranks' timeouts are its symptom.
        #expect(kind(M.rankKilled, .exited(137), reports: [timeout])?.name == "rankCrashed")
        #expect(kind(M.exitWithoutFinalize, .exited(1), reports: [timeout]) == .collectiveTimeout(detail: "rank 0: allreduce of bucket 3 exceeded 600 s"))
        #expect(kind("", .exited(1), reports: [RankReport(rank: 0, kind: "somethingNew", detail: "?")]) == .rankCrashed(rank: nil, detail: "mpirun exited with code 1"))
    }

    @Test func bareExitStatus() {
        #expect(kind("", .exited(137)) == .rankCrashed(rank: nil, detail: "mpirun exited with code 137: a rank ended by signal 9 (SIGKILL)"))
        #expect(kind("", .signaled(9)) == .rankCrashed(rank: nil, detail: "mpirun was ended by signal 9 (SIGKILL)"))
        #expect(FailureKind.hang(detail: "no heartbeat from rank 3 for 120 s").isRetryable)
        #expect(FailureKind.hang(detail: "x").description == "hang: x")
    }

    /// Runs `program` under a real mpirun (np=2) and classifies what comes back.
    func provoke(_ script: String) throws -> (TerminationStatus, FailureKind?, [String]) {
        let argv = ["mpirun", "--allow-run-as-root", "-np", "2", "--mca", "pml", "ob1", "--mca", "btl", "self,vader",
                    "--mca", "osc", "^ucx", "/bin/sh", "-c", script]
        let p = try SupervisedProcess(argv: argv, environment: baseEnvironment.filter { !$0.key.hasPrefix("OMPI_") }, forwardOutput: false)
        let status = try #require(p.wait(timeout: 30))
        return (status, classify(exit: status, stderrTail: p.stderrTail, rankReports: []), p.stderrTail)
    }

    @Test(.enabled(if: mpirunAvailable), .timeLimit(.minutes(1)))
    func realCrashUnderMpirun() throws {
        let (status, k, tail) = try provoke("if [ $OMPI_COMM_WORLD_RANK = 1 ]; then sleep 0.3; kill -9 $$; fi; sleep 5")
        #expect(status == .exited(137))
        #expect(k == .rankCrashed(rank: 1, detail: "rank 1 on node \(ProcessInfo.processInfo.hostName.split(separator: ".").first ?? "") exited on signal 9 (Killed)"), "\(tail)")
    }

    @Test(.enabled(if: mpirunAvailable), .timeLimit(.minutes(1)))
    func realUserErrorUnderMpirun() throws {
        let (status, k, tail) = try provoke("if [ $OMPI_COMM_WORLD_RANK = 1 ]; then sleep 0.3; exit 2; fi; sleep 5")
        #expect(status == .exited(2))
        #expect(k == .userError(detail: "rank 1 exited with code 2 (exit code 2: a user error)"), "\(tail)")
    }
}

extension FailureClassifierTests {
    /// help-orterun.txt [orterun:sys-limit-children], as mpirun fills it in.
    @Test func systemLimitAtLaunch() {
        let text = """
        mpirun was unable to launch the specified application as it encountered an error:

        Error: system limit exceeded on number of processes that can be started
        Node: vm

        when attempting to start process rank 3.
        """
        #expect(kind(text, .exited(1)) == .launcherError(detail: "mpirun could not start the application: system limit exceeded on number of processes that can be started"))
    }
}
