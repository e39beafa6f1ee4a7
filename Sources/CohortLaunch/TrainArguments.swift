// What the coordinator needs to know about the `cohort train` arguments it
// launches: the global batch and virtual shards (which world sizes are valid),
// the checkpoint directory (where a restart resumes from), and how to rewrite
// the arguments for a restart (`--resume auto`) without touching the rest — all
// through CohortCore's `TrainArgumentList`, the reading every command shares.
import CohortCore

/// The `cohort train` arguments of a launch, and the few values the coordinator reads from them.
public struct TrainArguments: Sendable, Equatable {
    /// The arguments as the user gave them (after `--`).
    public let arguments: [String]
    /// `--global-batch` / `--batch-size` (default 128, as `cohort train`).
    public let globalBatch: Int
    /// `--virtual-shards` when `--deterministic` is set (default 8); nil otherwise.
    public let virtualShards: Int?
    /// `--checkpoint-dir`.
    public let checkpointDirectory: String
    /// `--resume` as given, if any.
    public let resume: String?

    /// Reads `arguments` the way `cohort train` does (`TrainArgumentList`).
    /// - Throws: `LaunchError.invalidArgument` naming the flag when a value is missing
    ///   or not a positive integer, or when there is no `--checkpoint-dir` (a restart
    ///   needs somewhere to resume from).
    public init(_ arguments: [String]) throws {
        self.arguments = arguments
        let list = TrainArgumentList(arguments)
        do {
            globalBatch = try list.positiveInteger(TrainFlags.globalBatch)
            virtualShards = list.contains(TrainFlags.deterministic) ? try list.positiveInteger(TrainFlags.virtualShards) : nil
            guard let dir = try list.value(TrainFlags.checkpointDirectory), !dir.isEmpty else {
                throw LaunchError.invalidArgument("cohort launch needs --checkpoint-dir in the train arguments: restarts resume from its newest complete checkpoint")
            }
            checkpointDirectory = dir
            resume = try list.value(TrainFlags.resume)
        } catch let CohortError.badFlag(flag, message) {
            throw LaunchError.invalidArgument("train argument \(flag) \(message)")
        }
    }

    /// The arguments for `attempt`: the user's own on the first attempt (with
    /// `--resume auto` added when they gave no `--resume`), and `--resume auto` in
    /// place of any explicit path afterwards — the newest complete checkpoint wins.
    /// `--collective-timeout` is added when the user did not set it.
    public func forAttempt(_ attempt: Int, collectiveTimeout: Double) -> [String] {
        var list = TrainArgumentList(arguments)
        if attempt > 0 { list = list.removing(TrainFlags.resume) }
        if attempt > 0 || resume == nil { list = list.adding(TrainFlags.resume, "auto") }
        if !list.contains(TrainFlags.collectiveTimeout) {
            list = list.adding(TrainFlags.collectiveTimeout, plainNumber(collectiveTimeout))
        }
        return list.arguments
    }
}

/// `30`, `0.5`: a number as a command-line value.
func plainNumber(_ s: Double) -> String { s == s.rounded() && abs(s) < 1e15 ? String(Int(s)) : String(s) }
