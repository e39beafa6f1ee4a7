// The one error type of CohortLaunch: every case carries what a user needs to
// fix the problem (the file and line, the command, the two states, the path).

/// Errors raised by the launch coordinator's building blocks.
public enum LaunchError: Error, CustomStringConvertible, Equatable {
    /// A state change the state machine does not allow, e.g. `healthy → starting`.
    case invalidTransition(from: LaunchState, to: LaunchState, cause: String)
    /// A hostfile, `--hosts` list or discovery output that cannot be parsed;
    /// `source` names the file, flag or command, `line` is 1-based (0 when not line-based).
    case badHostList(source: String, line: Int, String)
    /// A command that could not be started, failed, or ran out of time.
    case commandFailed(command: String, String)
    /// The event log could not be opened or written.
    case eventLog(path: String, String)
    /// An argument outside what the coordinator accepts.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .invalidTransition(from, to, cause):
            return "launch state: cannot go from \(from) to \(to) (cause: \(cause))"
        case let .badHostList(source, line, message):
            return line > 0 ? "\(source):\(line): \(message)" : "\(source): \(message)"
        case let .commandFailed(command, message):
            return "`\(command)`: \(message)"
        case let .eventLog(path, message):
            return "event log \(path): \(message)"
        case let .invalidArgument(message):
            return message
        }
    }
}
