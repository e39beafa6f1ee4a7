// Stop requests for checkpoint-and-exit: SIGTERM/SIGINT (the handler only sets an
// atomic), the coordinator's `checkpointAndExit` command, and a coordinator that
// has been unreachable for longer than COHORT_HEARTBEAT_TIMEOUT. Ranks agree on
// stopping through the per-step loss allreduce (RankSupervisor.agree).
import CohortControl
import CohortCore
import Foundation
import Synchronization

/// The last stop signal received (0: none). Written only by the signal handler.
private let receivedStopSignal = Atomic<Int32>(0)

/// SIGTERM and SIGINT handlers that record the signal and nothing else (async-signal-safe).
enum StopSignals {
    /// Installs the handlers (SA_RESTART, so interrupted system calls resume). A second
    /// signal while stopping only stores the flag again; SIGKILL remains the hard stop.
    /// Also unblocks both signals on the calling thread: a parent may have spawned this process
    /// with them blocked (Foundation's `Process` does), and a blocked SIGTERM would never arrive.
    static func install() {
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in [SIGTERM, SIGINT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { receivedStopSignal.store($0, ordering: .relaxed) }
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
            sigaddset(&unblock, signal)
        }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// The signal received so far, if any.
    static var received: Int32? {
        let s = receivedStopSignal.load(ordering: .relaxed)
        return s == 0 ? nil : s
    }
}

/// Why ranks stop early; each rank contributes its own reasons to the agreement.
struct StopReasons: OptionSet, Sendable {
    let rawValue: Int
    /// SIGTERM or SIGINT reached a rank.
    static let signal = StopReasons(rawValue: 1)
    /// The coordinator sent `checkpointAndExit`.
    static let command = StopReasons(rawValue: 2)
    /// The control connection has been down longer than the heartbeat timeout.
    static let lostCoordinator = StopReasons(rawValue: 4)

    static let all: [StopReasons] = [.signal, .command, .lostCoordinator]

    /// `SIGTERM`, `checkpointAndExit from the coordinator`, `lost the coordinator`, joined.
    var text: String {
        var parts: [String] = []
        if contains(.signal) { parts.append("a stop signal") }
        if contains(.command) { parts.append("checkpointAndExit from the coordinator") }
        if contains(.lostCoordinator) { parts.append("lost the coordinator") }
        return parts.joined(separator: ", ")
    }
}

/// This rank's own stop reasons, checked at each step boundary (a few atomic loads and locks).
struct StopMonitor {
    let client: ControlClient?
    /// Seconds the control connection may be down, once it was up, before the rank stops.
    let heartbeatTimeout: Double
    private var everConnected = false
    private var downSince: Double?
    private(set) var reasons: StopReasons = []

    init(client: ControlClient?, heartbeatTimeout: Double) {
        self.client = client
        self.heartbeatTimeout = heartbeatTimeout
    }

    /// Adds any new reason (each logged once, on this rank) and returns all so far.
    mutating func check() -> StopReasons {
        if !reasons.contains(.signal), let s = StopSignals.received {
            reasons.insert(.signal)
            Log.info("received \(s == SIGINT ? "SIGINT" : "SIGTERM"): saving a checkpoint and stopping after this step")
        }
        guard let client else { return reasons }
        if !reasons.contains(.command), client.pendingCommand() == ControlCommand.checkpointAndExit {
            reasons.insert(.command)
            Log.info("the coordinator asked to checkpoint and exit: stopping after this step")
        }
        let now = monotonicSeconds()
        if client.isConnected {
            everConnected = true
            downSince = nil
        } else if everConnected && !reasons.contains(.lostCoordinator) {
            let since = downSince ?? now
            downSince = since
            if now - since > heartbeatTimeout {
                reasons.insert(.lostCoordinator)
                Log.info("lost the coordinator: no control connection for \(formatSeconds(now - since)) s "
                         + "(\(RankEnvironment.heartbeatTimeout) \(formatSeconds(heartbeatTimeout))); saving a checkpoint and stopping")
            }
        }
        return reasons
    }
}
