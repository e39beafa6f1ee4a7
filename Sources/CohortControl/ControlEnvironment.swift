// How `cohort launch` hands the control channel to each rank: four environment
// variables (the coordinator's address, the run id, the per-run secret and the
// launch attempt), plus the secret itself and `host:port` parsing.
import CohortCore
import Foundation

/// Names of the environment variables the coordinator sets for every rank.
public enum ControlEnvironment {
    /// `host:port` of the coordinator's listener (IPv4 address or host name).
    public static let address = "COHORT_CONTROL_ADDR"
    /// The run id; messages carrying another run id are dropped.
    public static let runID = "COHORT_RUN_ID"
    /// 64 hex digits (32 random bytes) keying HMAC-SHA256 on every frame.
    /// Readable by the same user through `/proc/<pid>/environ`; never log it.
    public static let secret = "COHORT_RUN_SECRET"
    /// The launch attempt, 0, 1, …; messages from another attempt are dropped.
    public static let attempt = "COHORT_ATTEMPT"

    /// The four variables for a rank's environment, ready to merge into a child's.
    public static func variables(address: String, runID: String, secret: ControlSecret, attempt: Int) -> [String: String] {
        [Self.address: address, Self.runID: runID, Self.secret: secret.hex, Self.attempt: String(attempt)]
    }
}

/// The per-run HMAC key: 32 bytes, written as 64 hex digits in the environment.
/// `description` does not print it.
public struct ControlSecret: Sendable, Equatable, CustomStringConvertible {
    /// Length of a secret in bytes.
    public static let byteCount = 32

    /// The key bytes (`byteCount` of them).
    public let bytes: [UInt8]

    /// Wraps raw key bytes; throws `ControlError.badSecret` unless there are exactly 32.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw ControlError.badSecret("expected \(Self.byteCount) bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// Parses 64 hex digits (either case); throws `ControlError.badSecret` naming the problem.
    public init(hex: String) throws {
        let digits = Array(hex.utf8)
        guard digits.count == 2 * Self.byteCount else {
            throw ControlError.badSecret("expected \(2 * Self.byteCount) hex digits, got \(digits.count) characters")
        }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(Self.byteCount)
        for i in stride(from: 0, to: digits.count, by: 2) {
            guard let hi = value(digits[i]), let lo = value(digits[i + 1]) else {
                throw ControlError.badSecret("character \(i + 1) or \(i + 2) is not a hex digit")
            }
            out.append(hi << 4 | lo)
        }
        bytes = out
    }

    /// 32 fresh bytes from `/dev/urandom`; throws `ControlError.randomSource` if it cannot be read.
    public static func generate() throws -> ControlSecret {
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/urandom"))
            defer { try? handle.close() }
            var out = [UInt8]()
            while out.count < byteCount {
                guard let data = try handle.read(upToCount: byteCount - out.count), !data.isEmpty else {
                    throw ControlError.randomSource("/dev/urandom: unexpected end of file")
                }
                out.append(contentsOf: data)
            }
            return try ControlSecret(bytes: out)
        } catch let error as ControlError {
            throw error
        } catch {
            throw ControlError.randomSource("/dev/urandom: \(error)")
        }
    }

    /// The 64 lowercase hex digits, as `COHORT_RUN_SECRET` carries them.
    public var hex: String { hexString(bytes) }

    /// `ControlSecret(<redacted>)`: the secret never reaches a log by interpolation.
    public var description: String { "ControlSecret(<redacted>)" }
}

/// A parsed `host:port`.
struct ControlAddress: Sendable, Equatable {
    var host: String
    var port: UInt16

    /// Splits at the last `:`; the port must be 1…65535.
    init(parsing text: String) throws {
        guard let colon = text.lastIndex(of: ":") else {
            throw ControlError.badAddress(text, "expected host:port")
        }
        let host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard !host.isEmpty, !host.contains(":") else {
            throw ControlError.badAddress(text, "expected host:port with an IPv4 address or host name")
        }
        guard let port = UInt16(portText), port > 0 else {
            throw ControlError.badAddress(text, "port must be 1…65535")
        }
        self.host = host
        self.port = port
    }
}
