// The one error type of CohortProcess: a program that cannot be started, or a
// pipe or file the spawning code cannot open. The text is what a user reads.

/// Errors raised while starting a child process or preparing its streams.
public enum ProcessError: Error, CustomStringConvertible, Equatable {
    /// A command that could not be started; `command` is its program.
    case commandFailed(command: String, String)
    /// A system call that failed (a pipe, a file), with the reason.
    case system(String)

    public var description: String {
        switch self {
        case let .commandFailed(command, message): return "`\(command)`: \(message)"
        case let .system(message): return message
        }
    }
}
