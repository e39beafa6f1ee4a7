// The errors of `cohort serve`, each mapped to the HTTP status and JSON message a client receives.
// A client's mistake is a 4xx naming the field at fault; overload is 503 with Retry-After.

/// Why a request or the server failed; `status` is the HTTP status the client gets.
public enum ServeError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The request is malformed (JSON, shape, datatype, count): 400.
    case badRequest(String)
    /// No model of this name is served: 404.
    case modelNotFound(String)
    /// The body or the row count is above a configured limit: 413.
    case tooLarge(String)
    /// The batching queue is full: 503 with Retry-After.
    case queueFull(queuedRows: Int, limit: Int)
    /// The server is draining (SIGTERM) and takes no new work: 503.
    case shuttingDown
    /// The model failed on a batch: 500.
    case inference(String)
    /// A configuration value is out of range (the flag's name and why).
    case badConfiguration(flag: String, String)

    /// The HTTP status code the client receives.
    public var status: Int {
        switch self {
        case .badRequest: return 400
        case .modelNotFound: return 404
        case .tooLarge: return 413
        case .queueFull, .shuttingDown: return 503
        case .inference: return 500
        case .badConfiguration: return 500
        }
    }

    public var description: String {
        switch self {
        case .badRequest(let m): return m
        case .modelNotFound(let name): return "no model named '\(name)' is served"
        case .tooLarge(let m): return m
        case .queueFull(let queued, let limit):
            return "server overloaded: \(queued) rows queued (limit \(limit)); retry later"
        case .shuttingDown: return "server is shutting down"
        case .inference(let m): return "inference failed: \(m)"
        case .badConfiguration(let flag, let m): return "\(flag): \(m)"
        }
    }
}
