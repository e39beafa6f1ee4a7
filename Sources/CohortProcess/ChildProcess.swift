// Running a child command from a `cohort` command: where its output goes
// (this process's own streams, nowhere, a pipe read back, a file appended to),
// reading the captured streams to their end, and waiting for its exit with or
// without a deadline. Every command that starts a program uses this (or
// `SupervisedProcess` / `runWithTimeout` for the launcher's supervised children).
import Foundation
import Glibc

/// Where a child's standard output or standard error goes.
public enum ChildOutput: Sendable, Equatable {
    /// This process's own stream (what `Foundation.Process` does by default).
    case inherit
    /// `/dev/null`.
    case discard
    /// A pipe, read back by `ChildProcess.readOutput()` / `runChild`.
    case capture
    /// Appended to the file at `path` (created 0644 when missing).
    case append(path: String)
    /// For standard error only: wherever standard output goes (the same stream).
    case sameAsStdout
}

/// What a finished child produced.
public struct ChildResult: Sendable {
    /// How it ended.
    public var status: TerminationStatus
    /// Its standard output when captured, else empty.
    public var stdout: Data
    /// Its standard error when captured, else empty.
    public var stderr: Data
}

/// A child process started with `posix_spawn`: the leader of its own process
/// group (as `Foundation.Process` makes it), its standard input this process's
/// own, its output routed by `ChildOutput`.
///
/// Not thread-safe: one owner reads, waits and signals.
public final class ChildProcess {
    /// The child's pid (also its process group id).
    public let pid: Int32
    private var captured: [(fd: Int32, isStdout: Bool)] = []
    private var status: TerminationStatus?

    /// Starts `argv` (PATH lookup when `argv[0]` has no `/`).
    /// - Parameters:
    ///   - environment: the child's environment (default: this process's).
    ///   - stdout, stderr: where the streams go (default: this process's own).
    /// - Throws: `ProcessError.commandFailed` when the program cannot be started,
    ///   `ProcessError.system` when a pipe or an `append` file cannot be opened.
    public init(argv: [String], environment: [String: String]? = nil,
                stdout: ChildOutput = .inherit, stderr: ChildOutput = .inherit) throws {
        var toClose: [Int32] = []
        var readEnds: [(Int32, Bool)] = []
        defer { for fd in toClose { POSIX.closeFD(fd) } }
        func target(_ output: ChildOutput, isStdout: Bool, stdoutFD: Int32) throws -> Int32 {
            switch output {
            case .inherit: return isStdout ? 1 : 2
            case .sameAsStdout: return stdoutFD
            case .discard:
                let fd = try POSIX.openFile("/dev/null", writing: true)
                toClose.append(fd)
                return fd
            case let .append(path):
                let fd = try POSIX.openAppend(path)
                toClose.append(fd)
                return fd
            case .capture:
                let pipe = try POSIX.makePipe()
                toClose.append(pipe.write)
                readEnds.append((pipe.read, isStdout))
                return pipe.write
            }
        }
        do {
            let out = try target(stdout == .sameAsStdout ? .inherit : stdout, isStdout: true, stdoutFD: 1)
            let err = try target(stderr, isStdout: false, stdoutFD: out)
            pid = try POSIX.spawn(argv: argv, environment: environment ?? ProcessInfo.processInfo.environment,
                                  stdout: out, stderr: err, inheritStdin: true)
        } catch {
            for (fd, _) in readEnds { POSIX.closeFD(fd) }
            throw error
        }
        captured = readEnds.map { (fd: $0.0, isStdout: $0.1) }
    }

    deinit { for (fd, _) in captured { POSIX.closeFD(fd) } }

    /// Reads the captured streams until the child (and whatever inherited them)
    /// closes them; empty for streams that are not captured. Call once.
    public func readOutput() -> (stdout: Data, stderr: Data) {
        var out = Data(), err = Data()
        var open = captured
        captured = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            for index in POSIX.pollReadable(open.map(\.fd), timeout: 3600).sorted(by: >) {
                let (fd, isStdout) = open[index]
                let n = chunk.withUnsafeMutableBytes { POSIX.readSome(fd, $0) }
                if n <= 0 {
                    POSIX.closeFD(fd)
                    open.remove(at: index)
                } else if isStdout {
                    out.append(contentsOf: chunk[0..<n])
                } else {
                    err.append(contentsOf: chunk[0..<n])
                }
            }
        }
        return (out, err)
    }

    /// How the child ended, reaping it if it has; nil while it runs.
    public var exitStatus: TerminationStatus? {
        if status == nil { status = POSIX.reapIfExited(pid) }
        return status
    }

    /// Blocks until the child exits and returns how it ended.
    @discardableResult
    public func wait() -> TerminationStatus {
        if let status { return status }
        let s = POSIX.reap(pid)
        status = s
        return s
    }

    /// Waits up to `timeout` seconds for the child to exit (checking every 5 ms);
    /// nil when it still runs.
    public func wait(timeout: Double) -> TerminationStatus? {
        let deadline = POSIX.monotonicNow() + timeout
        while true {
            if let s = exitStatus { return s }
            let left = deadline - POSIX.monotonicNow()
            if left <= 0 { return nil }
            POSIX.sleep(seconds: min(left, 0.005))
        }
    }

    /// Sends `signal` (default SIGTERM) to the child alone, as `Process.terminate()` does.
    public func signal(_ signal: Int32 = SIGTERM) {
        if status == nil { POSIX.signalProcess(pid, signal) }
    }
}

/// Runs `argv` to its end: starts it, reads its captured streams to EOF, waits.
/// - Throws: `ProcessError` when it cannot be started.
public func runChild(_ argv: [String], environment: [String: String]? = nil,
                     stdout: ChildOutput = .inherit, stderr: ChildOutput = .inherit) throws -> ChildResult {
    let child = try ChildProcess(argv: argv, environment: environment, stdout: stdout, stderr: stderr)
    let (out, err) = child.readOutput()
    return ChildResult(status: child.wait(), stdout: out, stderr: err)
}
