// One attempt of a launch: choose the hosts, start mpirun, watch heartbeats,
// reports and the exit, and say how the attempt ended.
import CohortControl
import CohortCore
import CohortProcess
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How one attempt ended.
enum AttemptResult {
    case finished
    case preempted(String)
    case scaleUp(Int)
    case failed(FailureKind)
}

enum PlacementChoice {
    case success(Placement)
    case failure(LaunchOutcome)
}

extension Coordinator {
    var bounds: (min: Int, max: Int) {
        (options.minNP ?? options.np ?? 1, options.maxNP ?? options.np ?? Int.max)
    }

    func largestPlacement(_ hosts: [HostSlots]) -> Placement? {
        chooseWorldSize(available: hosts, minNP: bounds.min, maxNP: bounds.max,
                        globalBatch: options.train.globalBatch, virtualShards: options.train.virtualShards)
    }

    /// The largest valid placement on the healthy hosts; after failures, waits (up to
    /// 2 minutes) for excluded hosts to return when the rest are not enough.
    func choosePlacement(attempt: Int) throws -> PlacementChoice {
        let deadline = monotonic() + (attempt == 0 ? 0 : 120)
        while true {
            var why: String
            do {
                let found = try options.discovery.discover(excluding: exclusions)
                for u in found.unreachable {
                    try log.log(event: "host_unreachable", fields: ["host": .string(u.host), "reason": .string(u.reason)])
                }
                lastHealthy = found.healthy
                if let p = largestPlacement(found.healthy) { return .success(p) }
                why = explainNoWorldSize(available: found.healthy, minNP: bounds.min, maxNP: bounds.max,
                                         globalBatch: options.train.globalBatch, virtualShards: options.train.virtualShards)
                    ?? "no valid world size"
                if !found.unreachable.isEmpty { why += "; unreachable: " + found.unreachable.map { "\($0.host) (\($0.reason))" }.joined(separator: ", ") }
            } catch {
                if attempt == 0 { return .failure(.userError("\(error)")) }
                why = "\(error)"
            }
            if !exclusions.excludedHosts.isEmpty { why += "; excluded after failures: " + exclusions.excludedHosts.joined(separator: ", ") }
            if attempt == 0 && exclusions.excludedHosts.isEmpty { return .failure(.userError("cannot start: \(why)")) }
            if monotonic() > deadline {
                let summary = policy.gaveUpSummary(reason: "no usable hosts: \(why)")
                let context = LaunchContext(attempt: attempt, worldSize: 0, hosts: [])
                if machine.state == .restarting { try machine.transition(to: .starting, cause: "waiting for hosts", context: context) }
                try machine.transition(to: .failed, cause: "no usable hosts: \(why)", context: context)
                try machine.transition(to: .gaveUp, cause: "no usable hosts within 120 s", context: context)
                return .failure(.gaveUp(summary))
            }
            Thread.sleep(forTimeInterval: 1)
        }
    }

    /// Starts mpirun for `attempt` on `placement` and watches it until it ends.
    func runAttempt(_ attempt: Int, placement: Placement, controlAddress: String) throws -> AttemptResult {
        let np = placement.worldSize
        let context = LaunchContext(attempt: attempt, worldSize: np, hosts: placement.hosts)
        if machine.state == .restarting {
            try machine.transition(to: .starting, cause: "relaunch on \(np) ranks (\(placement.hostArgument))", context: context)
        } else {
            try log.log(event: "starting", fields: ["attempt": .int(attempt), "np": .int(np), "hosts": .string(placement.hostArgument)])
        }
        server.attempt = attempt
        reports.removeAll()
        hungRank = nil
        var environment = ProcessInfo.processInfo.environment
        environment["COHORT_HEARTBEAT_TIMEOUT"] = plainNumber(options.heartbeatTimeout)
        var command = MPIRunCommand(placement: placement,
                                    program: (options.program ?? [options.cohortBinary, "train"]) + options.train.forAttempt(attempt, collectiveTimeout: options.collectiveTimeout),
                                    runID: runID, runSecret: secret.hex, attempt: attempt, controlAddress: controlAddress,
                                    restartCount: policy.restartsUsed, launcherEnvironment: environment)
        command.extraArguments = options.mpirunArguments
        command.oversubscribe = options.oversubscribe
        command.extraExports = ["COHORT_HEARTBEAT_TIMEOUT", "COHORT_FAULT"]
        try log.log(event: "mpirun", fields: ["attempt": .int(attempt), "argv": .strings(command.argv)])
        say("attempt \(attempt): \(np) ranks on \(placement.hostArgument)")
        let process = try SupervisedProcess(argv: command.argv, environment: command.environment)
        let launched = monotonic()
        var healthy = false, firstStepLogged = false, stopSent = false
        var scaleTarget: Int?
        var lastDiscovery = monotonic()

        while process.wait(timeout: 0.1) == nil {
            let seen = Dictionary(server.snapshot().map { ($0.rank, $0) }, uniquingKeysWith: { a, _ in a })
            let elapsed = monotonic() - launched
            if !healthy && (0..<np).allSatisfy({ seen[$0] != nil }) {
                healthy = true
                try machine.transition(to: .healthy, cause: "all \(np) ranks reporting after \(formatSeconds(elapsed))", context: context)
            }
            if !firstStepLogged, let step = seen[0]?.lastStep {
                firstStepLogged = true
                try log.log(event: "first_step", fields: ["attempt": .int(attempt), "step": .int(step), "seconds_since_launch": .double(elapsed)])
            }
            if let crashStep = options.launcherCrashStep, attempt == options.launcherCrashAttempt, (seen[0]?.lastStep ?? -1) >= crashStep {
                try log.log(event: "fault_injection", fields: ["kind": "launcher-crash", "step": .int(crashStep)])
                kill(getpid(), SIGKILL)
            }
            // Hang: a rank whose heartbeats stopped, or that never started.
            for r in 0..<np {
                let silent: Double? = seen[r].map { $0.secondsSinceLastMessage } ?? (elapsed > options.startupTimeout ? elapsed : nil)
                guard let silent, silent > (seen[r] == nil ? options.startupTimeout : options.heartbeatTimeout) else { continue }
                hungRank = r
                let host = placement.host(ofRank: r) ?? "?"
                let last = seen[r]?.lastStep.map { ", last step \($0)" } ?? ", never reported"
                let detail = "rank \(r) on \(host) sent no heartbeat for \(formatSeconds(silent))\(last)"
                try log.log(event: "hang_detected", fields: ["rank": .int(r), "host": .string(host), "silent_seconds": .double(silent)])
                say("hang: \(detail); stopping the job")
                _ = process.terminate(grace: 5)
                return .failed(.hang(detail: detail))
            }
            if Coordinator.stopRequested.load(ordering: .relaxed) && !stopSent && healthy {
                stopSent = (try? server.send(command: ControlCommand.checkpointAndExit, toRank: 0)) != nil
                if stopSent {
                    try log.log(event: "stop_requested", fields: ["cause": "SIGTERM to the launcher"])
                    say("stopping: asked rank 0 for a checkpoint at the next step boundary")
                }
            }
            if healthy, !stopSent, scaleTarget == nil, options.rediscoverInterval > 0, monotonic() - lastDiscovery > options.rediscoverInterval {
                lastDiscovery = monotonic()
                if let found = try? options.discovery.discover(excluding: exclusions), let bigger = largestPlacement(found.healthy),
                   bigger.worldSize > np, (try? server.send(command: ControlCommand.checkpointAndExit, toRank: 0)) != nil {
                    scaleTarget = bigger.worldSize
                    try log.log(event: "scale_up_requested", fields: ["from": .int(np), "to": .int(bigger.worldSize),
                                                                      "hosts": .string(bigger.hostArgument)])
                    say("more capacity (\(bigger.hostArgument)): checkpoint, then relaunch on \(bigger.worldSize) ranks")
                }
            }
        }
        let status = process.exitStatus ?? .exited(-1)
        let got = reports.all
        try log.log(event: "mpirun_exit", fields: ["attempt": .int(attempt), "status": .string(status.description),
                                                   "seconds": .double(monotonic() - launched)])
        if !healthy && status.succeeded {
            // Finished before every rank said hello (a very short job): still a transition through healthy.
            try machine.transition(to: .healthy, cause: "job ended before every rank reported", context: context)
        }
        if status.succeeded {
            if let p = got.first(where: { $0.kind == "preempted" }) {
                if stopSent && scaleTarget == nil { return .preempted("rank \(p.rank): \(p.detail)") }
                if let scaleTarget { return .scaleUp(scaleTarget) }
                return .failed(.preempted(detail: "rank \(p.rank): \(p.detail)"))
            }
            return .finished
        }
        let hosts = placement.hosts.map(\.host)
        let kind = classify(exit: status, stderrTail: process.stderrTail, rankReports: got, hosts: hosts)
            ?? .rankCrashed(rank: nil, detail: "mpirun ended with \(status)")
        return .failed(kind)
    }

    func monotonic() -> Double { ControlServer.monotonicNow() }
}
