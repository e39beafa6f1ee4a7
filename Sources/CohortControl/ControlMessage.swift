// The payload of every control frame: a small JSON object naming the run,
// attempt, sender and a per-sender sequence number, so a receiver can drop
// stale, misrouted and replayed messages after the HMAC has checked out.
import Foundation

/// One control-channel message (the JSON payload of a frame).
public struct ControlMessage: Codable, Sendable, Equatable {
    /// What a message reports (rank → coordinator) or asks (`command`, coordinator → rank).
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// First message on every connection.
        case hello
        /// Periodic liveness report carrying the latest step.
        case heartbeat
        /// A checkpoint was committed; `detail` is its path.
        case checkpointSaved
        /// The rank stops because of the user's mistake; `detail` is the message.
        case userError
        /// The rank stops because its environment refuses (disk full, read-only or forbidden
        /// checkpoint directory); `detail` is the message, naming the path and the errno text.
        case environmentError
        /// A collective did not complete in time; `detail` says which.
        case collectiveTimeout
        /// The rank was told to stop (signal or command) and is exiting.
        case preempted
        /// Training finished on this rank.
        case finished
        /// The rank failed; `detail` is the error.
        case failed
        /// Coordinator → rank: `detail` is the command name, e.g. `checkpointAndExit`.
        case command
    }

    /// The run id; must equal the receiver's.
    public var run: String
    /// The launch attempt; must equal the receiver's current attempt.
    public var attempt: Int
    /// Sender's rank, or -1 for the coordinator.
    public var rank: Int
    /// Strictly increasing per sender; the receiver drops anything not above the last it accepted.
    public var seq: UInt64
    /// What the message reports or asks.
    public var kind: Kind
    /// Training step, where it applies.
    public var step: Int?
    /// Error message, checkpoint path or command name.
    public var detail: String?
    /// Sender's Unix time in seconds (informational: clocks on nodes differ).
    public var time: Double

    /// The coordinator's rank field.
    public static let coordinatorRank = -1

    /// Builds a message; `time` defaults to now.
    public init(run: String, attempt: Int, rank: Int, seq: UInt64, kind: Kind, step: Int? = nil,
                detail: String? = nil, time: Double = Date().timeIntervalSince1970) {
        self.run = run
        self.attempt = attempt
        self.rank = rank
        self.seq = seq
        self.kind = kind
        self.step = step
        self.detail = detail
        self.time = time
    }

    /// UTF-8 JSON with sorted keys (the same bytes on every run for the same message).
    /// Throws `ControlError.encoding` for a non-finite time.
    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do { return Array(try encoder.encode(self)) } catch {
            throw ControlError.encoding("\(error)")
        }
    }

    /// Decodes a payload; throws `ControlError.encoding` (with the decoder's reason) if it is not a valid message.
    public init(payload: [UInt8]) throws {
        do { self = try JSONDecoder().decode(ControlMessage.self, from: Data(payload)) } catch {
            throw ControlError.encoding("undecodable payload: \(error)")
        }
    }

    /// A starting sequence number above any an earlier process of this sender used:
    /// the Unix time in microseconds, so a restarted sender cannot collide with its past frames.
    static func initialSeq() -> UInt64 { UInt64(max(Date().timeIntervalSince1970, 0) * 1e6) }
}

/// Command names the coordinator sends in `ControlMessage.detail`.
public enum ControlCommand {
    /// Save a checkpoint at the next step boundary, report `checkpointSaved`, then exit.
    public static let checkpointAndExit = "checkpointAndExit"
}
