// `cohort scale`: scaling sweeps. `cohort scale [run] --ranks 1,2,4 … -- <train
// arguments>` runs every configuration as a supervised `cohort launch` job,
// interleaved over rounds, and renders the report; `cohort scale report DIR`
// re-renders; `cohort scale compare A B` tests whether two sweeps differ.
import ArgumentParser
import CohortCheckpoint
import CohortCore
import CohortKernels
import CohortProcess
import CohortScale
import CohortStats
import Foundation

struct Scale: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Scaling sweeps over world sizes and knobs, with statistics, a report and plots.",
        subcommands: [ScaleRunCommand.self, ScaleReportCommand.self, ScaleCompare.self, ScaleProject.self], defaultSubcommand: ScaleRunCommand.self)
}

struct ScaleRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run (or resume) a sweep and render its report.")

    @Option(help: "World sizes, comma-separated.") var ranks = "1,2,4"
    @Option(help: "strong (same global batch at every size) or weak (same batch per rank).") var mode = "strong"
    @Option(parsing: .unconditional, help: "Timed steps per run.") var steps = 30
    @Option(parsing: .unconditional, help: "Untimed warm-up steps per run.") var warmup = 5
    @Option(parsing: .unconditional, help: "Rounds; each runs every configuration once.") var repeats = 3
    @Option(help: "Vary a knob: bucket-mb=1,25 | threads=1,2 | deterministic=off,on | transport=shm,tcp (repeatable).") var vary: [String] = []
    @Option(help: "Result folder (resumed when it holds the same plan).") var out = "runs/scale"
    @Option(help: "Hosts and slots for every run, e.g. h1:2,h2:2 (default: this machine).") var hosts: String?
    @Option(help: "OpenMPI hostfile for every run.") var hostfile: String?
    @Option(name: .customLong("netns-hosts"), parsing: .unconditional, help: "Run on N network-namespace hosts of this machine over TCP (cluster/netns.sh; root and iproute2).") var netnsHosts: Int?
    @Option(name: .customLong("mpirun-args"), parsing: .unconditional, help: "Extra mpirun arguments, passed to cohort launch.") var mpirunArgs: String?
    @Option(name: .customLong("control-address"), help: "Control address for cohort launch (needed with remote hosts).") var controlAddress: String?
    @Option(name: .customLong("run-timeout"), parsing: .unconditional, help: "Seconds one run may take before it is stopped and recorded as failed.") var runTimeout = 1800.0
    @Argument(parsing: .postTerminator, help: "cohort train arguments (after --).") var trainArguments: [String] = []

    func run() throws { try exitingOnErrors { try sweep() } }

    func sweep() throws {
        guard let m = ScaleMode(rawValue: mode) else { throw CohortError.badFlag(flag: "--mode", "'\(mode)' is not strong or weak") }
        let sizes = try ranks.split(separator: ",").map { s -> Int in
            guard let n = Int(s.trimmingCharacters(in: .whitespaces)) else { throw CohortError.badFlag(flag: "--ranks", "'\(s)' is not a number") }
            return n
        }
        let plan = try ScalePlan(ranks: sizes, mode: m, steps: steps, warmup: warmup, repeats: repeats, vary: vary, trainArguments: trainArguments)
        if let n = netnsHosts {
            guard hosts == nil, hostfile == nil else { throw CohortError.badFlag(flag: "--netns-hosts", "cannot be combined with --hosts or --hostfile") }
            guard n >= 1, n >= sizes.max() ?? 1 else { throw CohortError.badFlag(flag: "--netns-hosts", "\(n) hosts (one slot each) cannot run \(sizes.max() ?? 1) ranks") }
        }
        let store = ScaleStore(directory: out)
        try store.prepare(plan)
        try writeMachine(store)
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let namespaces = try netnsHosts.map { try NetnsHosts(count: $0, cohort: me) }
        defer { namespaces?.down() }
        let runner = CohortScale.ScaleRunner(plan: plan, store: store) { c, args, _, log in
            try launchRun(cohort: me, plan: plan, configuration: c, trainArguments: Array(args.dropFirst()), log: log, namespaces: namespaces)
        }
        Log.main("cohort scale: \(plan.configurations.count) configurations × \(plan.repeats) rounds into \(out)")
        try runner.run { Log.main($0) }
        let report = try ScaleReport.render(store)
        Log.main("report: \(report)")
    }

    /// One `cohort launch` job: no restarts (a failure is a failed measurement), output to `log`.
    func launchRun(cohort: String, plan: ScalePlan, configuration c: ScaleConfiguration, trainArguments: [String], log: String,
                   namespaces: NetnsHosts?) throws -> ScaleJobOutcome {
        let transport = plan.transport(c)
        var args = ["launch", "--np", String(c.ranks), "--max-restarts", "0"]
        if let namespaces { args += ["--hosts", namespaces.hosts, "--control-address", namespaces.controlAddress] }
        else if let hosts { args += ["--hosts", hosts] } else if let hostfile { args += ["--hostfile", hostfile] } else { args.append("--oversubscribe") }
        if let controlAddress, namespaces == nil { args += ["--control-address", controlAddress] }
        let mpi = ((mpirunArgs.map { [$0] } ?? []) + (namespaces?.mpirunArguments ?? []) + transport.mpirunArguments).joined(separator: " ")
        if !mpi.isEmpty { args += ["--mpirun-args", mpi] }
        args += ["--"] + trainArguments
        _ = FileManager.default.createFile(atPath: log, contents: Data((["cohort"] + args).joined(separator: " ").utf8 + [0x0A]))
        guard FileManager.default.isWritableFile(atPath: log) else { throw CohortError.badFile(path: log, "cannot write the run log") }
        // The coordinator runs in the head namespace, where the hosts' addresses are reachable.
        let argv = namespaces.map { ["/usr/bin/env"] + $0.inHead([cohort] + args) } ?? [cohort] + args
        let environment = ProcessInfo.processInfo.environment.merging(transport.environment.merging(namespaces?.environment ?? [:]) { $1 }) { $1 }
        let t0 = monotonicSeconds()
        let child = try ChildProcess(argv: argv, environment: environment, stdout: .append(path: log), stderr: .sameAsStdout)
        if child.wait(timeout: runTimeout) == nil { child.signal() }
        let status = child.wait().processStatus
        let seconds = monotonicSeconds() - t0
        var detail = ""
        if status != 0 {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            detail = seconds >= runTimeout ? "stopped after --run-timeout \(Int(runTimeout)) s"
                : text.split(separator: "\n").filter { $0.contains("rror") || $0.contains("failed") }.suffix(2).joined(separator: " | ")
        }
        return ScaleJobOutcome(status: status, seconds: seconds, detail: detail)
    }

    /// machine.json: where the sweep ran (kept from the first start when resuming).
    func writeMachine(_ store: ScaleStore) throws {
        guard !FileManager.default.fileExists(atPath: store.machinePath) else { return }
        var mpi = ""
        if let r = try? runChild(["/usr/bin/env", "mpirun", "--version"], stdout: .capture, stderr: .discard) {
            mpi = String(decoding: r.stdout, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        }
        let machine: [String: Any] = [
            "host": ProcessInfo.processInfo.hostName, "cores": ProcessInfo.processInfo.activeProcessorCount,
            "blas_kernel": BLAS.coreName, "mpi": mpi, "cohort_version": cohortVersion,
            "started": ISO8601DateFormatter().string(from: Date()),
        ]
        try store.write(try JSONSerialization.data(withJSONObject: machine, options: [.prettyPrinted, .sortedKeys]), to: store.machinePath)
    }
}

/// `--netns-hosts N`: N "hosts" in network namespaces of this machine (cluster/netns.sh,
/// found next to the build directory), one slot each, reached over TCP through a bridge.
struct NetnsHosts {
    static let prefix = "cohscale", net = "10.204.0"
    let script: String, count: Int

    /// Creates the namespaces. - Throws: `CohortError.badFlag` when the script is missing or fails (not root, no iproute2).
    init(count: Int, cohort: String) throws {
        var dir = URL(fileURLWithPath: cohort).deletingLastPathComponent()
        var found: String?
        for _ in 0..<6 {
            let candidate = dir.appendingPathComponent("cluster/netns.sh").path
            if FileManager.default.isExecutableFile(atPath: candidate) { found = candidate; break }
            dir = dir.deletingLastPathComponent()
        }
        guard let found else {
            throw CohortError.badFlag(flag: "--netns-hosts", "cluster/netns.sh not found above \(cohort) (run the binary from its source checkout)")
        }
        script = found
        self.count = count
        let up = try runChild([found, "up", String(count)], environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        guard up.status.processStatus == 0 else {
            throw CohortError.badFlag(flag: "--netns-hosts", "\(found) up \(count) failed (exit \(up.status.processStatus)); it needs root and iproute2")
        }
    }

    var environment: [String: String] { ["COHORT_NETNS_PREFIX": NetnsHosts.prefix, "COHORT_NETNS_NET": NetnsHosts.net] }
    var hosts: String { (1...count).map { "\(NetnsHosts.net).\(10 + $0):1" }.joined(separator: ",") }
    var controlAddress: String { NetnsHosts.net + ".1" }
    var mpirunArguments: [String] {
        let agent = URL(fileURLWithPath: script).deletingLastPathComponent().appendingPathComponent("netns-agent.sh").path
        return ["--mca", "plm_rsh_agent", agent, "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", NetnsHosts.net + ".0/24",
                "--mca", "oob_tcp_if_include", NetnsHosts.net + ".0/24", "--mca", "pml", "ob1", "--mca", "osc", "^ucx",
                "-x", "OMPI_ALLOW_RUN_AS_ROOT=1", "-x", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1", "-x", "COHORT_NETNS_PREFIX", "-x", "COHORT_NETNS_NET"]
    }
    /// `argv` run inside the head namespace (for /usr/bin/env).
    func inHead(_ argv: [String]) -> [String] {
        ["ip", "netns", "exec", NetnsHosts.prefix + "-head", "env", "TMPDIR=/tmp/\(NetnsHosts.prefix)-netns-head"] + argv
    }
    func down() {
        _ = try? runChild([script, "down"], environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
    }
}

struct ScaleReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Re-render report.md, results.csv and the plots of a sweep folder.")
    @Argument(help: "Sweep folder.") var directory: String
    func run() throws {
        try exitingOnErrors { print(try ScaleReport.render(ScaleStore(directory: directory))) }
    }
}

struct ScaleCompare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two sweeps configuration by configuration (Welch's t-test and Mann–Whitney U on time per sample; 'faster' or 'slower' only when both agree).")
    @Argument(help: "Baseline sweep folder.") var baseline: String
    @Argument(help: "Candidate sweep folder.") var candidate: String
    @Option(parsing: .unconditional, help: "Significance level; a difference is reported only when both tests have p below it.") var alpha = 0.05

    func run() throws { try exitingOnErrors { try compare() } }

    func compare() throws {
        let rows = try ScaleComparison.compare(baseline: ScaleStore(directory: baseline), candidate: ScaleStore(directory: candidate), alpha: alpha)
        print("configuration | baseline samples/s (rounds) | candidate samples/s (rounds) | change | Welch p | Mann-Whitney p | verdict")
        for r in rows {
            let p = r.comparison.map { String(format: "%.3g | %.3g", $0.welchPValue, $0.mannWhitneyPValue) } ?? "– | –"
            print(String(format: "%@ | %.1f (%d) | %.1f (%d) | %+.1f %% | %@ | %@", r.label, r.baselineMedian, r.baselineRounds,
                         r.candidateMedian, r.candidateRounds, r.throughputChange * 100, p, r.verdict))
        }
    }
}

struct ScaleProject: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Predict throughput and efficiency past this machine from a sweep and an alpha-beta all-reduce fit (docs/scaling.md).")
    @Argument(help: "Sweep folder.") var directory: String
    @Option(help: "`cohort bench allreduce --json` output to fit (default: <folder>/allreduce.jsonl, measured on first use).") var allreduce: String?
    @Option(help: "World sizes to predict, comma-separated.") var ranks = "8,16,32,64,128,256,512,1024"
    @Option(name: .customLong("network-gbps"), help: "Link speeds in Gb/s, comma-separated.") var networkGbps = "10,25,100,400"
    @Option(name: .customLong("latency-us"), parsing: .unconditional, help: "Network latency per message step, in µs.") var latencyUs = 10.0
    @Option(name: .customLong("bucket-mb"), help: "Gradient bucket sizes in MB, comma-separated.") var bucketMB = "25"
    @Option(help: "bench/allreduce-netns.sh --json results (2 hosts × 1 rank, 1 host × 2 ranks, and several × several; repeatable, one file per link): model flat and hierarchical allreduce from the 2-rank fits and report the error on the others.") var hierarchical: [String] = []
    @Option(name: .customLong("ranks-per-node"), parsing: .unconditional, help: "With --hierarchical: ranks per node of the predicted clusters.") var ranksPerNode = 8

    func run() throws { try exitingOnErrors { try project() } }

    func project() throws {
        let store = ScaleStore(directory: directory)
        let plan = try store.loadPlan()
        let runs = try store.loadRuns()
        let benchPath = allreduce ?? directory + "/allreduce.jsonl"
        if allreduce == nil && !FileManager.default.fileExists(atPath: benchPath) {
            Log.main("measuring this machine's all-reduce (cohort bench allreduce --repeats 1 --json) into \(benchPath)")
            let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            let r = try runChild([me, "bench", "allreduce", "--repeats", "1", "--json"], stdout: .capture)
            let data = r.stdout
            guard r.status.processStatus == 0 else { throw CohortError.badFile(path: benchPath, "cohort bench allreduce failed (exit \(r.status.processStatus))") }
            try store.write(data, to: benchPath)
        }
        guard let text = try? String(contentsOfFile: benchPath, encoding: .utf8) else { throw CohortError.badFile(path: benchPath, "cannot read") }
        let fit = try AllreduceFit.fit(benchLines: text.split(separator: "\n").map(String.init), path: benchPath)
        func list(_ s: String, _ flag: String) throws -> [Double] {
            try s.split(separator: ",").map { v in
                guard let x = Double(v.trimmingCharacters(in: .whitespaces)), x > 0 else { throw CohortError.badFlag(flag: flag, "'\(v)' is not a positive number") }
                return x
            }
        }
        let machine = FileManager.default.contents(atPath: store.machinePath).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        let cores = machine?["cores"] as? Int ?? ProcessInfo.processInfo.activeProcessorCount
        let md = try ScaleProjection.markdown(plan, runs, local: fit, cores: cores, ranks: try list(ranks, "--ranks").map { Int($0) },
                                              networkGbps: try list(networkGbps, "--network-gbps"), latencySeconds: latencyUs * 1e-6,
                                              bucketMB: try list(bucketMB, "--bucket-mb"), directory: directory)
            + (try hierarchicalSection(local: fit, ranks: try list(ranks, "--ranks").map { Int($0) }, networkGbps: try list(networkGbps, "--network-gbps"),
                                       bucketMB: try list(bucketMB, "--bucket-mb")))
        try store.write(Data(md.utf8), to: directory + "/projection.md")
        print(md, terminator: "")
    }
}

extension ScaleProject {
    /// With `--hierarchical FILE` (each): the two-level model's section, fitted to FILE's 2-rank points
    /// (intra-node: 1 host × 2 ranks, else `local`; inter-node: 2 hosts × 1 rank) and checked on the rest, ≥ 1 MiB.
    func hierarchicalSection(local: AllreduceFit, ranks: [Int], networkGbps: [Double], bucketMB: [Double]) throws -> String {
        guard ranksPerNode >= 1 else { throw CohortError.badFlag(flag: "--ranks-per-node", "\(ranksPerNode) must be at least 1") }
        return try hierarchical.map { path in
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw CohortError.badFlag(flag: "--hierarchical", "cannot read \(path)") }
            let points = MeasuredAllreduce.parse(text.split(separator: "\n").map(String.init))
            let minimum = 1 << 20
            let (model, intraFromPoints) = try TwoLevelAllreduce.fitted(points, local: local, path: path, minimumBytes: minimum)
            let nodes = ranks.map { $0 / ranksPerNode }.filter { $0 >= 2 }
            return model.markdown(measured: points, source: URL(fileURLWithPath: path).lastPathComponent, intraFromPoints: intraFromPoints, nodes: nodes,
                                  perNode: ranksPerNode, networkGbps: networkGbps, latencySeconds: latencyUs * 1e-6,
                                  bucketBytes: Int((bucketMB.first ?? 25) * 1e6), minimumBytes: minimum)
        }.joined()
    }
}

/// Prints an error as `Error: …` and exits 2 for the user's mistakes (a flag, a file, a
/// checkpoint that does not fit) or 1 when a sweep's runs failed.
func exitingOnErrors(_ body: () throws -> Void) throws {
    do { try body() } catch let e as CohortError {
        FileHandle.standardError.write(Data("Error: \(ParameterFlags.commandLineError(e))\n".utf8))
        throw ExitCode(2)
    } catch let e as CheckpointError {
        FileHandle.standardError.write(Data("Error: \(e)\n".utf8))
        throw ExitCode(2)
    } catch let e as ScaleError {
        FileHandle.standardError.write(Data("Error: \(e)\n".utf8))
        throw ExitCode(1)
    }
}
