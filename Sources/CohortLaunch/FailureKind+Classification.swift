// Turns mpirun's exit status, the tail of its stderr and the ranks' reports into
// a FailureKind. Patterns follow OpenMPI 4.1.4's wording, observed by provoking
// each fault (Tests/CohortLaunchTests/OpenMPIMessages.swift holds the texts) or,
// for the one not provoked, copied from its help-errmgr-base.txt. Rank exit codes are
// CohortControl's `RankExitCode`, which the ranks' supervisor exits with.
import CohortControl
import CohortProcess

/// Classifies a finished attempt; nil when it succeeded (`exit` is 0).
///
/// Precedence, most specific cause first:
/// 1. a rank's `environmentError` report (a full disk, a read-only or forbidden directory)
///    or `userError` report (neither retryable);
/// 2. a `preempted` report (ranks on a reclaimed node may also die by signal);
/// 3. mpirun's own launch errors (not enough slots, executable missing, bad option);
/// 4. a lost or unstartable node (`ORTE has lost communication with a remote daemon`,
///    `An ORTE daemon has unexpectedly failed`, `ORTE was unable to reliably start`);
/// 5. a rank ended by a signal (`mpirun noticed that process rank 1 … exited on signal 9`);
/// 6. exit code 2 (or `MPI_Abort` error code 2): the ranks' code for a user error.
///    mpirun reports only the first rank that failed, so that rank's code stands for all;
/// 7. a `collectiveTimeout` report (other ranks' timeouts are a symptom of 4–5);
/// 8. other non-zero exits, `MPI_Abort`, exit without `MPI_Finalize`;
/// 9. mpirun's exit status alone.
/// - Parameters:
///   - exit: how mpirun ended.
///   - stderrTail: the last lines of mpirun's stderr (ranks' stderr is mixed in).
///   - rankReports: structured reports received from ranks during the attempt.
///   - hosts: the attempt's hosts, to map a short name in a message (`ssh` drops the
///     domain) back to the name in the host list.
public func classify(exit: TerminationStatus, stderrTail: [String], rankReports: [RankReport],
                     hosts: [String] = []) -> FailureKind? {
    if exit.succeeded { return nil }
    let text = stderrTail.joined(separator: "\n")
    func report(_ kind: String) -> RankReport? { rankReports.first { $0.kind == kind } }

    if let r = report("environmentError") { return .environmentError(detail: "rank \(r.rank): \(r.detail)") }
    if let r = report("userError") { return .userError(detail: "rank \(r.rank): \(r.detail)") }
    if let r = report("preempted") { return .preempted(detail: "rank \(r.rank): \(r.detail)") }
    if let launch = launcherFailure(in: text) { return .launcherError(detail: launch) }
    if let lost = lostNode(in: text, hosts: hosts) { return lost }
    if let crash = signalCrash(in: text) { return crash }
    let exitLine = exitMessage(in: text)
    if let exitLine, exitLine.code == Int(RankExitCode.userError.rawValue) {
        return .userError(detail: exitLine.detail + " (exit code 2: a user error)")
    }
    if let r = report("collectiveTimeout") { return .collectiveTimeout(detail: "rank \(r.rank): \(r.detail)") }
    if let exitLine { return .rankCrashed(rank: exitLine.rank, detail: exitLine.detail) }

    switch exit {
    case .exited(RankExitCode.userError.rawValue):
        return .userError(detail: "mpirun exited with code 2 (a rank's code for a user error)")
    case let .exited(code) where code > 128 && code < 160:
        return .rankCrashed(rank: nil, detail: "mpirun exited with code \(code): a rank ended by \(TerminationStatus.signaled(code - 128))")
    case let .exited(code):
        return .rankCrashed(rank: nil, detail: "mpirun exited with code \(code)")
    case .signaled:
        return .rankCrashed(rank: nil, detail: "mpirun was ended by \(exit)")
    }
}

/// mpirun refused or failed to start the application.
private func launcherFailure(in text: String) -> String? {
    if text.contains("There are not enough slots available in the system") {
        let n = text.firstMatch(of: #/to satisfy the (\d+)\s+slots/#).map { " (\($0.1) requested)" } ?? ""
        return "mpirun: not enough slots available\(n); pass --oversubscribe or add hosts"
    }
    if let m = text.firstMatch(of: #/unable to launch the specified application as it could not access\s+or execute an executable:\s+Executable:\s*(\S+)\s+Node:\s*(\S+)/#) {
        return "mpirun cannot execute \(m.1) on node \(m.2)"
    }
    if let m = text.firstMatch(of: #/mpirun: Error: (.*)/#) { return "mpirun: \(m.1)" }
    if text.contains("mpirun has detected an attempt to run as root") {
        return "mpirun refuses to run as root without --allow-run-as-root"
    }
    if text.firstMatch(of: #/was unable to (?:launch|start) the specified application as it encountered an\s+error/#) != nil {
        let reason = text.firstMatch(of: #/\n\s*Error(?: name)?:\s*([^\n]+)/#).map { ": \($0.1)" } ?? ""
        return "mpirun could not start the application\(reason)"
    }
    return nil
}

/// A daemon (node) that was lost or never came up.
private func lostNode(in text: String, hosts: [String]) -> FailureKind? {
    if text.contains("ORTE has lost communication with a remote daemon") {
        let host = text.firstMatch(of: #/Remote daemon:\s*\S+ on node (\S+)/#).map { resolve(String($0.1), hosts) }
        return .nodeLost(host: host, detail: "OpenMPI lost communication with the daemon on node \(host ?? "?")")
    }
    if let m = text.firstMatch(of: #/A critical communication path was lost to:[\s\S]*?Node:\s*(\S+)/#) {
        let host = resolve(String(m.1), hosts)
        return .nodeLost(host: host, detail: "a critical communication path to node \(host) was lost")
    }
    let started = text.contains("ORTE was unable to reliably start one or more daemons")
    let failed = text.contains("An ORTE daemon has unexpectedly failed")
    guard started || failed else { return nil }
    // The rsh agent's complaint (ssh's wording) names the host.
    let sshHost = text.firstMatch(of: #/ssh: connect to host (\S+) port/#).map { String($0.1) }
        ?? text.firstMatch(of: #/ssh: Could not resolve hostname ([^\s:]+)/#).map { String($0.1) }
    let host = sshHost.map { resolve($0, hosts) }
    let what = started ? "OpenMPI could not start its daemon" : "an OpenMPI daemon failed after launch"
    return .nodeLost(host: host, detail: what + (host.map { " on node \($0)" } ?? ""))
}

/// A rank ended by a signal, or one that called abort.
private func signalCrash(in text: String) -> FailureKind? {
    if let m = text.firstMatch(of: #/noticed that process rank (\d+) with PID \d+ on node (\S+) exited on signal (\d+)(?: \(([^)\n]*)\))?/#) {
        let name = m.4.map { " (\($0))" } ?? ""
        return .rankCrashed(rank: Int(m.1), detail: "rank \(m.1) on node \(m.2) exited on signal \(m.3)\(name)")
    }
    if let m = text.firstMatch(of: #/exited due to process rank (\d+) with PID \d+ on\s+node (\S+) calling "abort"/#) {
        return .rankCrashed(rank: Int(m.1), detail: "rank \(m.1) on node \(m.2) called abort")
    }
    if text.contains("noticed that the job aborted") {
        return .rankCrashed(rank: nil, detail: "the job aborted and mpirun does not know which rank caused it")
    }
    return nil
}

/// The first failing rank's exit code: `MPI_Abort`, a non-zero exit, or an exit without finalize.
private func exitMessage(in text: String) -> (rank: Int?, code: Int?, detail: String)? {
    if let m = text.firstMatch(of: #/MPI_ABORT was invoked on rank (\d+) in communicator (\S+)\s+with errorcode (-?\d+)/#) {
        return (Int(m.1), Int(m.3), "rank \(m.1) called MPI_Abort on \(m.2) with error code \(m.3)")
    }
    if let m = text.firstMatch(of: #/exited with non-zero status[\s\S]*?Process name:\s*\[\[\d+,\d+\],(\d+)\][\s\S]*?Exit code:\s*(-?\d+)/#) {
        return (Int(m.1), Int(m.2), "rank \(m.1) exited with code \(m.2)")
    }
    if let m = text.firstMatch(of: #/exited due to process rank (\d+) with PID \d+ on\s+node (\S+) exiting improperly/#) {
        return (Int(m.1), nil, "rank \(m.1) on node \(m.2) exited without calling MPI_Finalize")
    }
    return nil
}

/// Maps a name from a message to the host list: exact, else the only host whose
/// first label matches (`node1` for `node1.cluster`); else the name as given.
private func resolve(_ name: String, _ hosts: [String]) -> String {
    if hosts.contains(name) { return name }
    let matches = hosts.filter { $0.split(separator: ".").first.map(String.init) == name }
    return matches.count == 1 ? matches[0] : name
}
