// How a child process ended, as the launcher and the commands report it: an exit code or a
// signal, with the shell's 128+n convention and the signal's name.

/// How a child process ended.
public enum TerminationStatus: Sendable, Equatable, CustomStringConvertible {
    /// Returned from `main` or called `exit` with this code (0–255).
    case exited(Int32)
    /// Ended by this signal number.
    case signaled(Int32)

    /// True for `exited(0)`.
    public var succeeded: Bool { self == .exited(0) }

    /// The code a shell would report: the exit code, or 128 + the signal number.
    public var shellCode: Int32 {
        switch self {
        case let .exited(code): return code
        case let .signaled(signal): return 128 + signal
        }
    }

    /// The number Foundation's `Process.terminationStatus` reports: the exit code,
    /// or the signal number for a child ended by a signal.
    public var processStatus: Int32 {
        switch self {
        case let .exited(code): return code
        case let .signaled(signal): return signal
        }
    }

    /// `exit code 2` or `signal 9 (SIGKILL)`.
    public var description: String {
        switch self {
        case let .exited(code): return "exit code \(code)"
        case let .signaled(signal): return "signal \(signal) (\(POSIX.signalName(signal)))"
        }
    }
}
