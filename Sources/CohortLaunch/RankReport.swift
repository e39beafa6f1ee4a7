// What a rank tells the coordinator about its own failure before it exits;
// the coordinator trusts these over anything it can infer from mpirun's output.

/// A structured report a rank sent the coordinator before failing.
public struct RankReport: Sendable, Equatable {
    /// The reporting rank.
    public var rank: Int
    /// `environmentError`, `userError`, `collectiveTimeout` or `preempted`; other kinds are ignored by `classify`.
    public var kind: String
    /// The rank's own message.
    public var detail: String

    public init(rank: Int, kind: String, detail: String) {
        self.rank = rank
        self.kind = kind
        self.detail = detail
    }
}
