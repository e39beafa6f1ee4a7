// The coordinator behind `cohort launch`: discovers hosts, picks a world size,
// starts `mpirun … cohort train …`, watches it through the control channel
// (heartbeats, rank reports) and mpirun's exit, and restarts it from the newest
// checkpoint after a failure — on fewer ranks when hosts are excluded, on more
// when capacity returns (a membership change, not a counted restart). Every
// state change goes to the JSON-lines event log with its cause.
import CohortControl
import CohortCore
import Foundation
import Synchronization

/// Settings of one `cohort launch`.
public struct CoordinatorOptions: Sendable {
    /// Where hosts come from (static list with probes, or a discovery command).
    public var discovery: HostDiscovery
    /// Wanted world size (nil: as many as the hosts' slots allow, within the bounds).
    public var np: Int?
    /// Smallest world size to run on after failures (default: `np`, else 1).
    public var minNP: Int?
    /// Largest world size (default: `np`, else the total slots).
    public var maxNP: Int?
    /// Restarts after failures before giving up (membership changes do not count).
    public var maxRestarts = 3
    /// A rank silent for this long is hung (its heartbeats stopped).
    public var heartbeatTimeout = 30.0
    /// Passed to the ranks as `--collective-timeout` unless the train arguments set it.
    public var collectiveTimeout = 300.0
    /// How long ranks may take from launch to their first heartbeat.
    public var startupTimeout = 120.0
    /// How often to re-discover hosts while healthy, to scale up (0: never).
    public var rediscoverInterval = 10.0
    /// Address the control channel binds to and ranks connect to.
    public var controlAddress = "127.0.0.1"
    /// Port of the control channel (0: any free port).
    public var controlPort: UInt16 = 0
    /// The `cohort` binary the ranks run.
    public var cohortBinary: String
    /// The program the ranks run before the train arguments (nil: `cohortBinary train`); any
    /// Trainer program on CohortRuntime takes the same launcher arguments.
    public var program: [String]?
    /// The `cohort train` arguments.
    public var train: TrainArguments
    /// Extra mpirun arguments, verbatim.
    public var mpirunArguments: [String] = []
    /// Pass `--oversubscribe` to mpirun.
    public var oversubscribe = false
    /// The event log (JSON lines).
    public var eventLogPath: String
    /// Host exclusion back-off after a failure on a host.
    public var exclusionBackoff = 10.0
    /// Launcher-side fault injection: SIGKILL the launcher once rank 0 reports this step (attempt `launcherCrashAttempt`).
    public var launcherCrashStep: Int?
    public var launcherCrashAttempt = 0

    public init(discovery: HostDiscovery, cohortBinary: String, train: TrainArguments, eventLogPath: String) {
        self.discovery = discovery
        self.cohortBinary = cohortBinary
        self.train = train
        self.eventLogPath = eventLogPath
    }
}

/// How a launch ended, with the process exit code to use.
public enum LaunchOutcome: Sendable, Equatable {
    case succeeded
    case userError(String)
    case gaveUp(String)
    case preempted(String)

    /// 0, 2 (user or environment error: bad input, full disk, read-only directory), 1 (gave up),
    /// 143 (preempted: resumable by running the same command).
    public var exitCode: Int32 {
        switch self {
        case .succeeded: return 0
        case .userError: return 2
        case .gaveUp: return 1
        case .preempted: return 143
        }
    }
}

/// Supervises one training job through failures and membership changes.
public final class Coordinator {
    let options: CoordinatorOptions
    let log: EventLog
    var machine: LaunchStateMachine
    var policy: RestartPolicy
    var exclusions: HostExclusions
    let runID: String
    let secret: ControlSecret
    let server: ControlServer
    /// Reports ranks sent during the current attempt (filled on the control channel's thread).
    let reports = ReportList()
    /// Set by SIGTERM/SIGINT to the launcher.
    public static let stopRequested = Atomic<Bool>(false)

    public init(options: CoordinatorOptions) throws {
        self.options = options
        log = try EventLog(path: options.eventLogPath)
        machine = LaunchStateMachine(log: log)
        policy = RestartPolicy(maxRestarts: options.maxRestarts)
        exclusions = HostExclusions(baseBackoff: options.exclusionBackoff, maxBackoff: max(options.exclusionBackoff, 300))
        var bytes = [UInt8](repeating: 0, count: 8)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        runID = "run-" + hexString(bytes)
        secret = try ControlSecret.generate()
        server = ControlServer(bindAddress: options.controlAddress, port: options.controlPort, runID: runID, secret: secret, attempt: 0)
        server.onMessage = { [reports, log] message, _ in
            switch message.kind {
            case .hello, .heartbeat, .command: return
            default:
                reports.append(RankReport(rank: message.rank, kind: message.kind.rawValue, detail: message.detail ?? ""))
                try? log.log(event: "rank_report", fields: ["rank": .int(message.rank), "kind": .string(message.kind.rawValue),
                                                            "step": message.step.map { .int($0) } ?? .null, "detail": .string(message.detail ?? "")])
            }
        }
        server.onRejected = { [log] reason, peer in
            try? log.log(event: "rejected_message", fields: ["reason": .string(reason), "peer": .string(peer)])
        }
        // Connections without the secret are counted, and logged as one line per interval (a flood is not a log flood).
        server.onRejectionSummary = { [log] counts, elapsed in
            let seconds = (elapsed * 10).rounded() / 10
            let text = "control: rejected \(counts.total) unauthenticated connections in the last \(formatSeconds(seconds)) (\(counts))"
            Log.warning("cohort launch: " + text)
            try? log.log(event: "control_rejections", fields: [
                ("seconds", .double(seconds)), ("total", .int(counts.total)),
                ("handshake_timeout", .int(counts.handshakeTimeout)), ("slots_full", .int(counts.slotsFull)),
                ("bad_frame", .int(counts.badFrame)), ("closed_early", .int(counts.closedEarly)), ("message", .string(text)),
            ])
        }
    }

    /// Runs the job to its end; never throws for the job's own failures (they are outcomes).
    public func run() throws -> LaunchOutcome {
        try server.start()
        defer { server.stop() }
        let address = "\(options.controlAddress):\(server.port)"
        try log.log(event: "launch", fields: ["run_id": .string(runID), "control": .string(address),
                                              "train_arguments": .strings(options.train.arguments)])
        say("control channel on \(address), event log \(options.eventLogPath)")
        var attempt = 0
        while true {
            try sweepStaleSharedMemory()
            let placement: Placement
            switch try choosePlacement(attempt: attempt) {
            case let .success(p): placement = p
            case let .failure(outcome): return outcome
            }
            let result = try runAttempt(attempt, placement: placement, controlAddress: address)
            let context = LaunchContext(attempt: attempt, worldSize: placement.worldSize, hosts: placement.hosts)
            switch result {
            case .finished:
                try machine.transition(to: .succeeded, cause: "every rank finished", context: context)
                say("training finished (attempt \(attempt), \(placement.worldSize) ranks)")
                return .succeeded
            case let .preempted(detail):
                try machine.transition(to: .failed, cause: "preempted: \(detail)", context: context)
                try machine.transition(to: .gaveUp, cause: "the launcher was asked to stop; run the same command to continue", context: context)
                say("preempted: \(detail); run the same command again to continue from the checkpoint")
                return .preempted(detail)
            case let .scaleUp(to):
                try machine.transition(to: .restarting, cause: "membership change: \(placement.worldSize) → \(to) ranks", context: context)
            case let .failed(kind):
                try machine.transition(to: .failed, cause: kind.description, context: context)
                if !kind.isRetryable {
                    try machine.transition(to: .gaveUp, cause: "not retryable: \(kind.description)", context: context)
                    if case let .userError(detail) = kind { return .userError(detail) }
                    if case let .environmentError(detail) = kind { return .userError(detail) }
                    return .gaveUp(kind.description)
                }
                if let host = culpritHost(kind, placement) {
                    // Exclude the host only if the others can still run the job: running
                    // smaller beats waiting out a back-off on the only machine there is.
                    if largestPlacement(lastHealthy.filter { $0.host != host }) != nil {
                        let backoff = exclusions.recordFailure(host: host)
                        try log.log(event: "host_excluded", fields: ["host": .string(host), "seconds": .double(backoff), "cause": .string(kind.name)])
                        say("excluding \(host) for \(formatSeconds(backoff)) after \(kind.name)")
                    } else {
                        try log.log(event: "host_kept", fields: ["host": .string(host), "cause": .string(kind.name),
                                                                 "reason": "the other hosts cannot run the job"])
                    }
                }
                let record = FailureRecord(attempt: attempt, worldSize: placement.worldSize, hosts: placement.hosts, kind: kind)
                switch policy.recordFailure(record) {
                case let .giveUp(reason):
                    let summary = policy.gaveUpSummary(reason: reason)
                    try machine.transition(to: .gaveUp, cause: reason, context: context)
                    return .gaveUp(summary)
                case let .restart(used):
                    try machine.transition(to: .restarting, cause: "restart \(used) of \(options.maxRestarts) after \(kind.name)", context: context)
                    say("\(kind.description) — restart \(used) of \(options.maxRestarts) from the newest checkpoint")
                }
            }
            attempt += 1
        }
    }

    /// The host that a failure points at, if any: the node lost, or the host of the rank that crashed or hung.
    func culpritHost(_ kind: FailureKind, _ placement: Placement) -> String? {
        switch kind {
        case let .nodeLost(host, _): return host
        case let .rankCrashed(rank?, _): return placement.host(ofRank: rank)
        case .hang: return hungRank.flatMap { placement.host(ofRank: $0) }
        default: return nil
        }
    }

    /// The rank whose silence ended the last attempt.
    var hungRank: Int?
    /// The healthy hosts of the latest discovery.
    var lastHealthy: [HostSlots] = []

    func say(_ text: String) { Log.info("cohort launch: " + text) }
}

/// Rank reports of the current attempt, shared with the control channel's thread.
final class ReportList: Sendable {
    private let list = Mutex<[RankReport]>([])
    func append(_ r: RankReport) { list.withLock { $0.append(r) } }
    func removeAll() { list.withLock { $0 = [] } }
    var all: [RankReport] { list.withLock { $0 } }
}
