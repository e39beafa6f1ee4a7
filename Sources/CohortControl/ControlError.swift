// Errors of the coordinator–rank control channel. Each names what the user
// must fix: the environment variable, the address, or the rank.

/// Errors thrown by `CohortControl`.
public enum ControlError: Error, CustomStringConvertible, Equatable {
    /// An environment variable the control channel needs is unset.
    case missingEnvironment(variable: String, String)
    /// An environment variable is set to a value that cannot be used.
    case badEnvironment(variable: String, String)
    /// A run secret that is not 64 hexadecimal digits (32 bytes).
    case badSecret(String)
    /// An address that is not `host:port` or does not resolve to IPv4.
    case badAddress(String, String)
    /// A socket call failed; names the call, the address and the system error.
    case socket(operation: String, address: String, String)
    /// Random bytes could not be read for a secret.
    case randomSource(String)
    /// The server or client is not started (or is stopping).
    case notRunning
    /// `start()` was called on a server that is already running.
    case alreadyRunning
    /// `ControlServer.send` found no open connection on which `rank` said hello or sent a heartbeat.
    case noConnection(rank: Int)
    /// `ControlServer.send` found 1024 commands already waiting for the I/O thread.
    case commandQueueFull(rank: Int)
    /// A frame's 4-byte length is 0 or above `ControlFrame.maxPayloadLength`.
    case badFrameLength(UInt32)
    /// A frame's HMAC tag does not match its payload under the run secret.
    case badFrameTag
    /// A message could not be encoded (or is larger than a frame allows).
    case encoding(String)

    /// One line naming the variable, address or rank at fault.
    public var description: String {
        switch self {
        case let .missingEnvironment(variable, why): return "\(variable) is not set: \(why)"
        case let .badEnvironment(variable, why): return "\(variable): \(why)"
        case let .badSecret(why): return "bad run secret: \(why)"
        case let .badAddress(address, why): return "control address \(address): \(why)"
        case let .socket(operation, address, why): return "\(operation) \(address): \(why)"
        case let .randomSource(why): return "cannot read random bytes for the run secret: \(why)"
        case .notRunning: return "the control channel is not running"
        case .alreadyRunning: return "the control server is already running"
        case let .noConnection(rank): return "no open control connection from rank \(rank)"
        case let .commandQueueFull(rank): return "command to rank \(rank) not queued: 1024 commands already waiting"
        case let .badFrameLength(n): return "bad frame length \(n) (must be 1…\(ControlFrame.maxPayloadLength))"
        case .badFrameTag: return "bad HMAC tag"
        case let .encoding(why): return "cannot encode control message: \(why)"
        }
    }
}
