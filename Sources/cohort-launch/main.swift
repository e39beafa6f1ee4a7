// `cohort launch` (this executable is `cohort-launch`; `cohort launch …` execs
// it): supervises `mpirun … cohort train …`, restarts it elastically from the
// newest checkpoint after failures. Links neither MPI nor the numeric code.
import ArgumentParser
import CohortControl
import CohortCore
import CohortLaunch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

struct Launch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort launch",
        abstract: "Run `cohort train` under mpirun, supervised: crashes and hangs are detected and the job restarts from its newest checkpoint, elastically.",
        discussion: "Example: cohort launch --hosts localhost:2 --max-restarts 3 -- --steps 1000 --checkpoint-dir runs/a",
        version: cohortVersion)

    @Option(help: "OpenMPI hostfile (`host slots=N` lines).") var hostfile: String?
    @Option(help: "Hosts and slots, e.g. h1:2,h2:2.") var hosts: String?
    @Option(name: .customLong("host-discovery"), help: "Command printing `host:slots` lines, run before each launch and while healthy.") var hostDiscovery: String?
    @Option(help: "Wanted world size (default: every slot, within --min-np/--max-np).") var np: Int?
    @Option(name: .customLong("min-np"), help: "Smallest world size to continue on after failures (default: --np, else 1).") var minNP: Int?
    @Option(name: .customLong("max-np"), help: "Largest world size (default: --np, else all slots).") var maxNP: Int?
    @Option(name: .customLong("max-restarts"), help: "Restarts after failures before giving up.") var maxRestarts = 3
    @Option(name: .customLong("heartbeat-timeout"), help: "Seconds without a heartbeat after which a rank is hung.") var heartbeatTimeout = 30.0
    @Option(name: .customLong("collective-timeout"), help: "Seconds a rank waits in a collective before reporting and aborting.") var collectiveTimeout = 300.0
    @Option(name: .customLong("startup-timeout"), help: "Seconds from launch to every rank's first heartbeat.") var startupTimeout = 120.0
    @Option(name: .customLong("rediscover-interval"), help: "Seconds between host re-discoveries while healthy, to scale up (0: never).") var rediscoverInterval = 10.0
    @Option(name: .customLong("exclusion-backoff"), help: "Seconds a failing host is excluded (doubling per repeated failure).") var exclusionBackoff = 10.0
    @Option(name: .customLong("mpirun-args"), parsing: .unconditional, help: "Extra mpirun arguments, space-separated, passed verbatim.") var mpirunArgs: String?
    @Flag(help: "Pass --oversubscribe to mpirun.") var oversubscribe = false
    @Option(name: .customLong("probe"), help: "Host probe command with {host} (default: the mpirun rsh agent or ssh, for hosts other than this one).") var probe: String?
    @Option(name: .customLong("control-address"), help: "Address the control channel binds to and ranks connect to (default 127.0.0.1; required with remote hosts).") var controlAddress: String?
    @Option(name: .customLong("control-port"), help: "Control channel port (default: any free port).") var controlPort: UInt16 = 0
    @Option(name: .customLong("event-log"), help: "JSON-lines event log (default: <checkpoint-dir>/launch-events.jsonl).") var eventLog: String?
    @Option(name: .customLong("inject-fault"), help: "Fault injection spec for the ranks (COHORT_FAULT) and the launcher (launcher-crash@STEP).") var injectFault: String?
    @Option(help: "Run this program on every rank instead of `cohort train`: a Trainer program on CohortRuntime (e.g. examples/trainer), given the same arguments.") var program: String?
    @Option(help: "The cohort subcommand every rank runs: train (default) or rl (docs/rl.md); its arguments follow --.") var command = "train"
    @Argument(parsing: .postTerminator, help: "`cohort train` arguments (or --program's), after --.") var trainArguments: [String] = []

    func hostSource() throws -> (HostDiscovery.Source, Bool) {
        let given = [hostfile != nil, hosts != nil, hostDiscovery != nil].filter { $0 }.count
        guard given <= 1 else { throw ValidationError("give at most one of --hostfile, --hosts, --host-discovery") }
        if let hostfile { return (.fixed(try HostSlots.parseHostfile(path: hostfile)), false) }
        if let hosts { return (.fixed(try HostSlots.parseHostList(hosts)), false) }
        if let hostDiscovery { return (.command(hostDiscovery), true) }
        let slots = np ?? maxNP ?? ProcessInfo.processInfo.activeProcessorCount
        return (.fixed([HostSlots(host: "localhost", slots: max(slots, 1))]), false)
    }

    func run() throws {
        var train = trainArguments
        if train.first == "--" { train.removeFirst() }
        let trainArgs = try TrainArguments(train)
        let mpirunArguments = mpirunArgs.map { $0.split(separator: " ").map(String.init) } ?? []
        let (source, isCommand) = try hostSource()
        var remote = false
        if case let .fixed(list) = source { remote = list.contains { !HostDiscovery.isLocal($0.host) } } else { remote = true }
        if remote && controlAddress == nil {
            throw ValidationError("--control-address is required with remote hosts: an address of this machine the hosts can reach")
        }
        var probeTemplate: [String]?
        if let probe { probeTemplate = probe.split(separator: " ").map(String.init) }
        else if remote && !isCommand {
            if let i = mpirunArguments.firstIndex(of: "plm_rsh_agent"), i + 1 < mpirunArguments.count {
                probeTemplate = [mpirunArguments[i + 1], HostDiscovery.hostPlaceholder, "true"]
            } else {
                probeTemplate = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=3", HostDiscovery.hostPlaceholder, "true"]
            }
        }
        let discovery = HostDiscovery(source: source, probe: probeTemplate)
        let binary = ProcessInfo.processInfo.environment["COHORT_BINARY"]
            ?? URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("cohort").path
        try makeCheckpointDirectory(trainArgs.checkpointDirectory)
        var options = CoordinatorOptions(discovery: discovery, cohortBinary: binary, train: trainArgs,
                                         eventLogPath: eventLog ?? trainArgs.checkpointDirectory + "/launch-events.jsonl")
        guard ["train", "rl"].contains(command) else { throw ValidationError("--command must be train or rl, got '\(command)'") }
        if command != "train" {
            guard program == nil else { throw ValidationError("give --program or --command \(command), not both") }
            options.program = [binary, command]
        }
        if let program {
            let path = URL(fileURLWithPath: program).standardizedFileURL.path
            guard FileManager.default.isExecutableFile(atPath: path) else { throw ValidationError("--program: \(program) is not an executable file") }
            options.program = [path]
        }
        options.np = np; options.minNP = minNP; options.maxNP = maxNP
        options.maxRestarts = maxRestarts
        options.heartbeatTimeout = heartbeatTimeout
        options.collectiveTimeout = collectiveTimeout
        options.startupTimeout = startupTimeout
        options.rediscoverInterval = rediscoverInterval
        options.exclusionBackoff = exclusionBackoff
        options.mpirunArguments = mpirunArguments
        options.oversubscribe = oversubscribe
        options.controlAddress = controlAddress ?? "127.0.0.1"
        options.controlPort = controlPort
        if let spec = injectFault ?? ProcessInfo.processInfo.environment["COHORT_FAULT"] {
            setenv("COHORT_FAULT", spec, 1)
            if let crash = try LauncherFault(spec: spec) { options.launcherCrashStep = crash.step; options.launcherCrashAttempt = crash.attempt }
        }
        installStopHandlers()
        let outcome = try Coordinator(options: options).run()
        switch outcome {
        case .succeeded: return
        case let .userError(message): FileHandle.standardError.write(Data("Error: \(message)\n".utf8))
        case let .gaveUp(summary): FileHandle.standardError.write(Data("Error: gave up.\n\(summary)\n".utf8))
        case let .preempted(detail): FileHandle.standardError.write(Data("cohort launch: preempted (\(detail)); run the same command to continue\n".utf8))
        }
        Foundation.exit(outcome.exitCode)
    }
}

/// `launcher-crash@STEP[:attempt=A]` within a fault spec (other faults are the ranks').
struct LauncherFault {
    let step: Int, attempt: Int
    init?(spec: String) throws {
        guard let item = spec.split(separator: ",").first(where: { $0.hasPrefix("launcher-crash@") }) else { return nil }
        let parts = item.dropFirst("launcher-crash@".count).split(separator: ":")
        guard let s = parts.first.flatMap({ Int($0) }), s >= 0 else { throw ValidationError("--inject-fault: bad step in '\(item)'") }
        var a = 0
        for p in parts.dropFirst() {
            guard p.hasPrefix("attempt="), let v = Int(p.dropFirst(8)) else { throw ValidationError("--inject-fault: unknown option '\(p)' in '\(item)'") }
            a = v
        }
        step = s; attempt = a
    }
}

/// SIGTERM/SIGINT ask the running job for a checkpoint, then the launcher exits.
/// Also unblocks them: a parent (Foundation's `Process`, some shells) may start us with them blocked.
func installStopHandlers() {
    var set = sigset_t()
    sigemptyset(&set)
    for sig in [SIGTERM, SIGINT] {
        signal(sig) { _ in Coordinator.stopRequested.store(true, ordering: .relaxed) }
        sigaddset(&set, sig)
    }
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
}

/// Creates the checkpoint directory and its parents (`mkdir -p`) with errors that name the
/// path and the errno text (Foundation's would print "NSCocoaErrorDomain Code=516").
func makeCheckpointDirectory(_ path: String) throws {
    var st = stat()
    if stat(path, &st) == 0 {
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw LaunchError.invalidArgument("checkpoint directory \(path) exists and is not a directory")
        }
        return
    }
    // The parent by hand: NSString.deletingLastPathComponent traps (SIGILL) on a
    // one-character relative path such as `m` in swift-corelibs-foundation.
    var trimmed = Substring(path)
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    if let slash = trimmed.lastIndex(of: "/") {
        let parent = slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
        if parent != path { try makeCheckpointDirectory(parent) }
    }
    guard mkdir(path, 0o755) == 0 else {
        let code = errno
        if code == EEXIST { return try makeCheckpointDirectory(path) }
        throw LaunchError.invalidArgument("cannot create the checkpoint directory \(path): \(String(cString: strerror(code)))")
    }
}

// Every error before or around the job is the user's or the environment's (bad flags, an
// unusable directory or event log, a busy control port): exit 2, as documented, so no
// supervisor retries it. ArgumentParser alone would exit 64 or 1. Only an impossible
// state change (a bug) exits 1.
do {
    var command = try Launch.parseAsRoot()
    try command.run()
} catch {
    var isBug = false
    if case LaunchError.invalidTransition = error { isBug = true }
    if isBug || Launch.exitCode(for: error) == .success { Launch.exit(withError: error) }
    FileHandle.standardError.write(Data((Launch.fullMessage(for: error) + "\n").utf8))
    Foundation.exit(2)
}
