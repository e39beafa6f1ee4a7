// Counters of connections the server closed before they ever authenticated
// (anyone on the network can open them), reported in aggregate once per
// interval instead of one log line each, so a connection flood cannot flood the log.

/// How many unauthenticated connections the server closed, by cause.
///
/// An unauthenticated connection is one that has not yet sent a message that passed
/// every check (HMAC, run id, attempt, sequence number). Causes that need the secret
/// (a stale attempt, a replay, …) are not counted here: they go to `ControlRejectionHandler` one by one.
public struct ControlRejectionCounts: Sendable, Equatable, CustomStringConvertible {
    /// No authenticated message within the handshake deadline.
    public var handshakeTimeout = 0
    /// Closed to make room for a newer connection: every unauthenticated slot was taken (the oldest goes).
    public var slotsFull = 0
    /// A bad length prefix or a tag that does not verify (wrong or no secret).
    public var badFrame = 0
    /// The peer closed (or reset) the connection before authenticating.
    public var closedEarly = 0

    /// A zero count.
    public init() {}

    /// Every connection counted.
    public var total: Int { handshakeTimeout + slotsFull + badFrame + closedEarly }

    /// The counts since `earlier` (field by field).
    public func subtracting(_ earlier: ControlRejectionCounts) -> ControlRejectionCounts {
        var d = ControlRejectionCounts()
        d.handshakeTimeout = handshakeTimeout - earlier.handshakeTimeout
        d.slotsFull = slotsFull - earlier.slotsFull
        d.badFrame = badFrame - earlier.badFrame
        d.closedEarly = closedEarly - earlier.closedEarly
        return d
    }

    /// `handshake timeout 3, slots full 12, bad frame 0, closed by peer 40`.
    public var description: String {
        "handshake timeout \(handshakeTimeout), slots full \(slotsFull), bad frame \(badFrame), closed by peer \(closedEarly)"
    }
}

/// Called on the server's I/O thread at most once per `ControlServer.summaryInterval` (and once
/// when it stops) with the unauthenticated connections closed since the last call, if any,
/// and the seconds that covers. Keep it short: the I/O thread serves every connection.
public typealias ControlRejectionSummaryHandler = @Sendable (_ counts: ControlRejectionCounts, _ seconds: Double) -> Void
