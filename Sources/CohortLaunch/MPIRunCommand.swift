// Builds the `mpirun` command line and the environment it runs in. Values of
// exported variables live only in the environment (mpirun forwards them with
// `-x NAME`), so the run secret never appears in `ps` output.
import CohortProcess
import Foundation

/// The `mpirun …  cohort train …` invocation for one attempt.
public struct MPIRunCommand: Sendable {
    /// The mpirun executable (PATH lookup when it has no `/`).
    public var mpirun = "mpirun"
    /// World size and hosts.
    public var placement: Placement
    /// The program and its arguments, e.g. `["/opt/cohort", "train", "--resume", "auto", …]`.
    public var program: [String]
    /// `COHORT_RUN_ID`.
    public var runID: String
    /// `COHORT_RUN_SECRET` (64 hex digits); only ever in the environment.
    public var runSecret: String
    /// `COHORT_ATTEMPT`: 0, 1, ….
    public var attempt: Int
    /// `COHORT_CONTROL_ADDR`: the coordinator's `host:port`.
    public var controlAddress: String
    /// `COHORT_RESTART_COUNT`: restarts after failures so far.
    public var restartCount: Int
    /// `OPENBLAS_NUM_THREADS` for every rank. nil: the launcher's own value when
    /// it is set, else 1 (one BLAS thread per rank beats oversubscribed threads).
    public var openBLASThreads: Int?
    /// `--bind-to` value; nil leaves mpirun's default (binding to cores, which on
    /// namespace "hosts" puts every rank on core 0). Dropped when `extraArguments`
    /// has its own `--bind-to`.
    public var bindTo: String? = "none"
    /// Adds `--oversubscribe` (more ranks than slots).
    public var oversubscribe = false
    /// The user's `--mpirun-args`, passed verbatim before the program.
    public var extraArguments: [String] = []
    /// More variable names to forward with `-x`, taken from the launcher's environment.
    public var extraExports: [String] = []
    /// Adds `--allow-run-as-root`; default: true when the launcher runs as root.
    public var runAsRoot: Bool
    /// The launcher's environment, the base of the child's.
    public var launcherEnvironment: [String: String]

    /// A command for `placement` running `program`; see the properties for the rest.
    public init(placement: Placement, program: [String], runID: String, runSecret: String,
                attempt: Int, controlAddress: String, restartCount: Int,
                launcherEnvironment: [String: String] = ProcessInfo.processInfo.environment,
                runAsRoot: Bool? = nil) {
        self.placement = placement
        self.program = program
        self.runID = runID
        self.runSecret = runSecret
        self.attempt = attempt
        self.controlAddress = controlAddress
        self.restartCount = restartCount
        self.launcherEnvironment = launcherEnvironment
        self.runAsRoot = runAsRoot ?? POSIX.isRoot()
    }

    /// The variables set for the ranks, in the order of their `-x` flags:
    /// COHORT_RUN_ID, COHORT_RUN_SECRET, COHORT_ATTEMPT, COHORT_CONTROL_ADDR,
    /// COHORT_RESTART_COUNT, OPENBLAS_NUM_THREADS, then OPENBLAS_CORETYPE only
    /// when the launcher has it (a user's choice is respected, never invented),
    /// then `extraExports` that the launcher has.
    public var exports: [(name: String, value: String)] {
        var list: [(String, String)] = [
            ("COHORT_RUN_ID", runID),
            ("COHORT_RUN_SECRET", runSecret),
            ("COHORT_ATTEMPT", String(attempt)),
            ("COHORT_CONTROL_ADDR", controlAddress),
            ("COHORT_RESTART_COUNT", String(restartCount)),
            ("OPENBLAS_NUM_THREADS", openBLASThreads.map(String.init) ?? launcherEnvironment["OPENBLAS_NUM_THREADS"] ?? "1"),
        ]
        if let core = launcherEnvironment["OPENBLAS_CORETYPE"] { list.append(("OPENBLAS_CORETYPE", core)) }
        for name in extraExports where !list.contains(where: { $0.0 == name }) {
            if let value = launcherEnvironment[name] { list.append((name, value)) }
        }
        return list
    }

    /// The full argv: `mpirun [--allow-run-as-root] -np N --host h1:2,… [--bind-to none]
    /// [--oversubscribe] -x NAME … <extraArguments> <program>`.
    public var argv: [String] {
        let userBinds = extraArguments.contains { $0 == "--bind-to" || $0 == "-bind-to" }
        var command = MPIRun(ranks: placement.worldSize, hosts: placement.hostArgument, allowRunAsRoot: runAsRoot,
                             bindTo: userBinds ? nil : bindTo, oversubscribe: oversubscribe,
                             exports: exports.map(\.name), extraArguments: extraArguments)
        command.mpirun = mpirun
        return command.argv(program)
    }

    /// The environment to start mpirun with: the launcher's plus `exports`.
    public var environment: [String: String] {
        var env = launcherEnvironment
        for (name, value) in exports { env[name] = value }
        return env
    }
}
