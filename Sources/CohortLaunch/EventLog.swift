// The coordinator's JSON-lines event log: one object per line, written with a
// single write(2) to an O_APPEND descriptor and fsync'd, so a crash of the
// launcher (or of the machine) never leaves half a line, and readers can tail it.
import CohortCore
import CohortProcess
import Foundation

/// A value in an event log record.
public enum LogValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByFloatLiteral, ExpressibleByArrayLiteral {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case strings([String])
    case null

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: String...) { self = .strings(elements) }

    /// The value as JSON text.
    var json: String {
        switch self {
        case let .string(s): return jsonString(s)
        case let .int(i): return String(i)
        case let .double(d): return d.isFinite ? String(d) : "null"
        case let .bool(b): return b ? "true" : "false"
        case let .strings(a): return "[" + a.map(jsonString).joined(separator: ",") + "]"
        case .null: return "null"
        }
    }
}

/// Escapes `s` as a JSON string literal (quotes included).
func jsonString(_ s: String) -> String { jsonStringLiteral(s) }

/// An append-only JSON-lines log of what the coordinator did and why.
///
/// Every record starts with `time` (ISO 8601, UTC, milliseconds) and `event`;
/// the other keys follow in the order given. Safe to use from several threads
/// and processes: each record is one write(2) to an O_APPEND file descriptor.
public final class EventLog: Sendable {
    /// The file written to.
    public let path: String
    private let fd: Int32
    private let durable: Bool
    private let now: @Sendable () -> Date

    /// Opens (creating if needed) `path` for appending.
    /// - Parameters:
    ///   - durable: fsync after each record (records are rare: transitions, exclusions).
    ///   - now: the clock stamped on records (injectable for tests).
    /// - Throws: `LaunchError.eventLog` naming the path.
    public init(path: String, durable: Bool = true, now: @escaping @Sendable () -> Date = { Date() }) throws {
        self.path = path
        do { self.fd = try POSIX.openAppend(path) } catch { throw LaunchError.eventLog(path: path, error.description) }
        self.durable = durable
        self.now = now
    }

    deinit { POSIX.closeFD(fd) }

    /// Appends one record `{"time": …, "event": event, <fields in order>}`.
    /// Keys `time` and `event` in `fields` are ignored.
    /// - Throws: `LaunchError.eventLog` naming the path and the system error.
    public func log(event: String, fields: [(String, LogValue)]) throws {
        var line = "{\"time\":" + jsonString(POSIX.iso8601UTC(now())) + ",\"event\":" + jsonString(event)
        for (key, value) in fields where key != "time" && key != "event" {
            line += "," + jsonString(key) + ":" + value.json
        }
        line += "}\n"
        if let problem = POSIX.writeOnce(fd, Array(line.utf8)) {
            throw LaunchError.eventLog(path: path, "cannot append: \(problem)")
        }
        if durable, let problem = POSIX.fsyncFD(fd) {
            throw LaunchError.eventLog(path: path, "fsync failed: \(problem)")
        }
    }

    /// Appends a record from a literal: `log(event: "host_excluded", fields: ["host": "h2", "seconds": 20])`.
    /// - Throws: `LaunchError.eventLog` naming the path.
    public func log(event: String, fields: KeyValuePairs<String, LogValue> = [:]) throws {
        try log(event: event, fields: fields.map { ($0.key, $0.value) })
    }

    /// Appends a `transition` record: `from`, `to`, `cause`, `attempt`, `np`, `hosts` (`["h1:2", …]`).
    /// - Throws: `LaunchError.eventLog` naming the path.
    public func log(_ transition: LaunchTransition) throws {
        try log(event: "transition", fields: [
            ("from", .string(transition.from.rawValue)),
            ("to", .string(transition.to.rawValue)),
            ("cause", .string(transition.cause)),
            ("attempt", .int(transition.context.attempt)),
            ("np", .int(transition.context.worldSize)),
            ("hosts", .strings(transition.context.hosts.map(\.description))),
        ])
    }
}
