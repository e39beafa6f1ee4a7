// Runs a short command (a host probe, a discovery script) to completion under a
// hard deadline. The child leads its own process group, so on expiry the whole
// group is killed: `ssh` or a script's grandchildren cannot outlive the call.
import Foundation

/// What a command run by `runWithTimeout` produced.
public struct CommandResult: Sendable, Equatable {
    /// How the command ended; `.signaled(9)` when the deadline killed it.
    public var status: TerminationStatus
    /// Everything written to standard output (up to the output limit), lossily decoded as UTF-8.
    public var stdout: String
    /// Everything written to standard error (up to the output limit).
    public var stderr: String
    /// True when the deadline expired and the process group was killed.
    public var timedOut: Bool
}

/// Runs `argv` with a deadline and returns its status and output.
///
/// The child starts in a new process group with stdin from `/dev/null`. When
/// `timeout` seconds pass, the whole group gets SIGKILL and the result has
/// `timedOut == true`. When the command exits but leaves background processes
/// holding its output open, they are killed after 0.2 s, so the call always
/// returns within about `timeout` + 1 s.
/// - Parameters:
///   - argv: program and arguments (PATH lookup when `argv[0]` has no `/`).
///   - timeout: seconds before the group is killed.
///   - environment: the child's environment (default: the launcher's).
///   - outputLimit: bytes kept per stream; the rest is read and dropped.
/// - Throws: `ProcessError.commandFailed` when the program cannot be started.
public func runWithTimeout(argv: [String], timeout: Double,
                           environment: [String: String]? = nil,
                           outputLimit: Int = 1 << 20) throws -> CommandResult {
    let env = environment ?? ProcessInfo.processInfo.environment
    let (pid, outRead, errRead) = try POSIX.spawnPiped(argv: argv, environment: env)

    var open: [Int32] = [outRead, errRead]
    var collected: [Int32: [UInt8]] = [outRead: [], errRead: []]
    var status: TerminationStatus?
    var timedOut = false
    let start = POSIX.monotonicNow()
    var exitedAt = 0.0
    var killedStragglers = false
    var chunk = [UInt8](repeating: 0, count: 65536)

    while true {
        let now = POSIX.monotonicNow()
        if status == nil, let s = POSIX.reapIfExited(pid) { status = s; exitedAt = now }
        if status != nil && open.isEmpty { break }
        if status == nil && now - start >= timeout {
            timedOut = true
            POSIX.signalGroup(pid, POSIX.sigkill)
            status = POSIX.reap(pid)
            exitedAt = now
            killedStragglers = true
        }
        if status != nil, !killedStragglers, now - exitedAt > 0.2 {
            // The command is done but something it started still holds the pipe.
            POSIX.signalGroup(pid, POSIX.sigkill)
            killedStragglers = true
        }
        if status != nil && now - exitedAt > 1.0 { break }  // a straggler that escaped the group
        let wait = status == nil ? min(0.05, max(0.001, timeout - (now - start))) : 0.05
        for index in POSIX.pollReadable(open, timeout: wait).sorted(by: >) {
            let fd = open[index]
            let n = chunk.withUnsafeMutableBytes { POSIX.readSome(fd, $0) }
            if n <= 0 {
                POSIX.closeFD(fd)
                open.remove(at: index)
            } else if collected[fd]!.count < outputLimit {
                collected[fd]!.append(contentsOf: chunk[0..<min(n, outputLimit - collected[fd]!.count)])
            }
        }
    }
    for fd in open { POSIX.closeFD(fd) }
    return CommandResult(status: status!,
                         stdout: String(decoding: collected[outRead]!, as: UTF8.self),
                         stderr: String(decoding: collected[errRead]!, as: UTF8.self),
                         timedOut: timedOut)
}
