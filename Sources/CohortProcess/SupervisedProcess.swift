// Runs `mpirun` (or any command) as the leader of its own process group,
// forwards its output line by line to the launcher's stdout/stderr, keeps the
// tail of its stderr for failure classification, and stops the whole group:
// SIGTERM, a grace period, then SIGKILL.
import Foundation

/// A long-running child process under supervision.
///
/// The child leads a new process group (its pid is the group id), so
/// `terminate(grace:)` reaches everything it started that stayed in the group.
/// Caveat for `mpirun`: OpenMPI 4.1 puts every rank in a process group of its
/// own, so a SIGKILL to mpirun's group orphans the ranks. mpirun must get
/// SIGTERM and time to kill them itself (it exited 2.0 s after SIGTERM in a
/// measurement here): give it a grace of 5 s or more.
///
/// Three threads per child: one reaps it, two read its output. If the object is
/// released while the child runs, the group gets SIGKILL.
public final class SupervisedProcess: Sendable {
    /// The child's pid, which is also its process group id.
    public let pid: Int32
    /// The command as started.
    public let argv: [String]
    private let shared: SupervisedState

    /// Starts `argv` with exactly `environment`, stdin from `/dev/null`.
    /// - Parameters:
    ///   - forwardOutput: copy the child's stdout/stderr lines to the launcher's own.
    ///   - stderrTailLines: how many of the last stderr lines to keep (for `classify`).
    /// - Throws: `ProcessError.commandFailed` when the program cannot be started.
    public init(argv: [String], environment: [String: String],
                forwardOutput: Bool = true, stderrTailLines: Int = 200) throws {
        let (pid, outRead, errRead) = try POSIX.spawnPiped(argv: argv, environment: environment)
        self.pid = pid
        self.argv = argv
        let shared = SupervisedState(tailCapacity: max(1, stderrTailLines))
        self.shared = shared

        Thread {
            let status = POSIX.reap(pid)
            shared.finish(status)
        }.start()
        Thread { shared.pump(from: outRead, forwardTo: forwardOutput ? 1 : nil, keepTail: false) }.start()
        Thread { shared.pump(from: errRead, forwardTo: forwardOutput ? 2 : nil, keepTail: true) }.start()
    }

    deinit {
        if shared.snapshot().status == nil { POSIX.signalGroup(pid, POSIX.sigkill) }
    }

    /// True until the child (the group leader) has exited and been reaped.
    public var isRunning: Bool { shared.snapshot().status == nil }

    /// How the child ended; nil while it runs.
    public var exitStatus: TerminationStatus? { shared.snapshot().status }

    /// The last stderr lines (without newlines), oldest first.
    public var stderrTail: [String] { shared.snapshot().tail }

    /// Waits up to `timeout` seconds (`.infinity` allowed) for the child to exit.
    ///
    /// After the exit it also waits up to 0.5 s for the output pipes to drain, so
    /// `stderrTail` holds the child's last words (a process that inherited the
    /// pipes, e.g. an orphaned rank, cannot hold this up longer).
    /// - Returns: the exit status, or nil when the child still runs.
    public func wait(timeout: Double) -> TerminationStatus? {
        shared.wait(until: POSIX.monotonicNow() + timeout)
    }

    /// Stops the whole process group: SIGTERM (and SIGCONT, so stopped members
    /// can act on it), then SIGKILL to whatever is left in the group after `grace`
    /// seconds; members that exited are not waited for.
    /// - Returns: the child's exit status.
    @discardableResult
    public func terminate(grace: Double) -> TerminationStatus {
        let deadline = POSIX.monotonicNow() + grace
        if groupAlive() || shared.snapshot().status == nil {
            POSIX.signalGroup(pid, POSIX.sigterm)
            POSIX.signalGroup(pid, POSIX.sigcont)
        }
        _ = shared.wait(until: deadline)
        while POSIX.monotonicNow() < deadline && groupAlive() { POSIX.sleep(seconds: 0.02) }
        if groupAlive() { POSIX.signalGroup(pid, POSIX.sigkill) }
        if let status = shared.wait(until: .infinity) { return status }
        return .signaled(POSIX.sigkill)
    }

    /// True while a non-zombie member of the child's group is left. Once the
    /// group is empty after the leader was reaped, never looked at again: its
    /// number could be reused.
    private func groupAlive() -> Bool {
        if shared.groupGone { return false }
        let alive = !POSIX.liveMembers(ofGroup: pid).isEmpty
        if !alive && shared.snapshot().status != nil { shared.markGroupGone() }
        return alive
    }
}

/// State shared by a `SupervisedProcess` and its threads; every mutable field
/// is guarded by `condition` (hence the unchecked Sendable).
final class SupervisedState: @unchecked Sendable {
    private let condition = NSCondition()
    private var status: TerminationStatus?
    private var exitedAt = 0.0
    private var openStreams = 2
    private var tail: [String] = []
    private var gone = false
    private let tailCapacity: Int

    init(tailCapacity: Int) { self.tailCapacity = tailCapacity }

    func snapshot() -> (status: TerminationStatus?, tail: [String]) {
        condition.lock(); defer { condition.unlock() }
        return (status, Array(tail.suffix(tailCapacity)))
    }

    var groupGone: Bool { condition.lock(); defer { condition.unlock() }; return gone }

    func markGroupGone() { condition.lock(); gone = true; condition.unlock() }

    func finish(_ s: TerminationStatus) {
        condition.lock()
        status = s
        exitedAt = POSIX.monotonicNow()
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the child exited and its streams closed (or 0.5 s after the exit).
    func wait(until deadline: Double) -> TerminationStatus? {
        condition.lock(); defer { condition.unlock() }
        while true {
            let now = POSIX.monotonicNow()
            if let status, openStreams == 0 || now >= exitedAt + 0.5 { return status }
            let limit = status == nil ? deadline : min(deadline, exitedAt + 0.5)
            if now >= limit { return status }
            let wake = min(limit - now, 0.1)
            _ = condition.wait(until: Date(timeIntervalSinceNow: wake))
        }
    }

    private func appendTail(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        condition.lock()
        tail.append(contentsOf: lines)
        if tail.count > 2 * tailCapacity { tail.removeFirst(tail.count - tailCapacity) }
        condition.unlock()
    }

    /// Reads `fd` to EOF, forwarding complete lines and keeping the stderr tail.
    func pump(from fd: Int32, forwardTo target: Int32?, keepTail: Bool) {
        var pending: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        func emit(_ bytes: ArraySlice<UInt8>) {
            guard !bytes.isEmpty else { return }
            if let target { bytes.withUnsafeBytes { POSIX.writeAll(target, $0) } }
            if keepTail {
                let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
                    .dropLast(bytes.last == UInt8(ascii: "\n") ? 1 : 0)
                appendTail(lines.map { String(decoding: $0, as: UTF8.self) })
            }
        }
        while true {
            let n = chunk.withUnsafeMutableBytes { POSIX.readSome(fd, $0) }
            if n <= 0 { break }
            pending.append(contentsOf: chunk[0..<n])
            if let lastNewline = pending.lastIndex(of: UInt8(ascii: "\n")) {
                emit(pending[...lastNewline])
                pending.removeSubrange(...lastNewline)
            } else if pending.count >= 65536 {
                // A very long line (or a progress bar using \r): pass it on as it is.
                emit(pending[...])
                pending.removeAll(keepingCapacity: true)
            }
        }
        if !pending.isEmpty { emit(pending[...] + [UInt8(ascii: "\n")]) }
        POSIX.closeFD(fd)
        condition.lock()
        openStreams -= 1
        condition.broadcast()
        condition.unlock()
    }
}
