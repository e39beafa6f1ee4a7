// The mpirun command line, exactly; secrets only in the environment; and one
// real mpirun run showing the `-x` variables reach every rank.
import CohortProcessTestSupport
import Foundation
import Testing
@testable import CohortLaunch
import CohortProcess

@Suite struct MPIRunCommandTests {
    let secret = String(repeating: "ab", count: 32)

    func command(env: [String: String] = ["PATH": "/usr/bin:/bin"], root: Bool) -> MPIRunCommand {
        MPIRunCommand(placement: Placement(worldSize: 3, available: [HostSlots(host: "h1", slots: 2), HostSlots(host: "h2", slots: 2)])!,
                      program: ["/opt/cohort/bin/cohort", "train", "--resume", "auto"],
                      runID: "run-7", runSecret: secret, attempt: 2, controlAddress: "10.0.0.1:41000",
                      restartCount: 1, launcherEnvironment: env, runAsRoot: root)
    }

    @Test func argvAsRootWithUserCoreType() {
        var c = command(env: ["PATH": "/usr/bin", "OPENBLAS_CORETYPE": "SkylakeX"], root: true)
        c.extraArguments = ["--mca", "btl", "tcp,self"]
        #expect(c.argv == [
            "mpirun", "--allow-run-as-root", "-np", "3", "--host", "h1:2,h2:1", "--bind-to", "none",
            "-x", "COHORT_RUN_ID", "-x", "COHORT_RUN_SECRET", "-x", "COHORT_ATTEMPT", "-x", "COHORT_CONTROL_ADDR",
            "-x", "COHORT_RESTART_COUNT", "-x", "OPENBLAS_NUM_THREADS", "-x", "OPENBLAS_CORETYPE",
            "--mca", "btl", "tcp,self",
            "/opt/cohort/bin/cohort", "train", "--resume", "auto",
        ])
        let env = c.environment
        #expect(env["COHORT_RUN_ID"] == "run-7" && env["COHORT_RUN_SECRET"] == secret && env["COHORT_ATTEMPT"] == "2")
        #expect(env["COHORT_CONTROL_ADDR"] == "10.0.0.1:41000" && env["COHORT_RESTART_COUNT"] == "1")
        #expect(env["OPENBLAS_NUM_THREADS"] == "1" && env["OPENBLAS_CORETYPE"] == "SkylakeX" && env["PATH"] == "/usr/bin")
    }

    @Test func argvAsUserWithOptions() {
        var c = command(root: false)
        c.mpirun = "/usr/bin/mpirun"
        c.oversubscribe = true
        c.openBLASThreads = 2
        c.extraExports = ["PATH", "NOT_SET", "COHORT_RUN_ID"]
        #expect(c.argv == [
            "/usr/bin/mpirun", "-np", "3", "--host", "h1:2,h2:1", "--bind-to", "none", "--oversubscribe",
            "-x", "COHORT_RUN_ID", "-x", "COHORT_RUN_SECRET", "-x", "COHORT_ATTEMPT", "-x", "COHORT_CONTROL_ADDR",
            "-x", "COHORT_RESTART_COUNT", "-x", "OPENBLAS_NUM_THREADS", "-x", "PATH",
            "/opt/cohort/bin/cohort", "train", "--resume", "auto",
        ])
        #expect(c.environment["OPENBLAS_NUM_THREADS"] == "2")
        #expect(c.environment["OPENBLAS_CORETYPE"] == nil)
    }

    @Test func bindingAndBLASThreadDefaults() {
        var c = command(env: ["OPENBLAS_NUM_THREADS": "4"], root: false)
        #expect(c.environment["OPENBLAS_NUM_THREADS"] == "4")  // the user's value is respected
        c.extraArguments = ["--bind-to", "core"]
        #expect(c.argv.filter { $0 == "--bind-to" }.count == 1 && c.argv.contains("core"))
        c.extraArguments = []
        c.bindTo = nil
        #expect(!c.argv.contains("--bind-to"))
    }

    @Test func secretNeverOnTheCommandLine() {
        let c = command(root: true)
        #expect(!c.argv.contains { $0.contains(secret) })
        #expect(c.environment["COHORT_RUN_SECRET"] == secret)
    }

    @Test(.enabled(if: mpirunAvailable), .timeLimit(.minutes(1)))
    func exportedVariablesReachEveryRank() throws {
        let dir = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var c = MPIRunCommand(placement: Placement(worldSize: 2, available: [HostSlots(host: "localhost", slots: 2)])!,
                              program: ["/bin/sh", "-c", "echo \"$COHORT_RUN_ID $COHORT_ATTEMPT $COHORT_RESTART_COUNT $OPENBLAS_NUM_THREADS $COHORT_CONTROL_ADDR ${#COHORT_RUN_SECRET}\" > \(dir)/rank$OMPI_COMM_WORLD_RANK"],
                              runID: "run-x", runSecret: secret, attempt: 3, controlAddress: "127.0.0.1:9",
                              restartCount: 2, launcherEnvironment: baseEnvironment.filter { !$0.key.hasPrefix("OMPI_") })
        c.extraArguments = ["--mca", "btl", "self,vader", "--mca", "pml", "ob1", "--mca", "osc", "^ucx"]
        let r = try runWithTimeout(argv: c.argv, timeout: 30, environment: c.environment)
        #expect(r.status == .exited(0), "\(r.stderr)")
        for rank in 0..<2 {
            let line = try String(contentsOfFile: "\(dir)/rank\(rank)", encoding: .utf8)
            #expect(line == "run-x 3 2 1 127.0.0.1:9 64\n")
        }
    }
}
