// What the coordinator needs to know about the `cohort train` arguments it
// launches: the global batch and virtual shards (which world sizes are valid),
// the checkpoint directory (where a restart resumes from), and how to rewrite
// the arguments for a restart (`--resume auto`) without touching the rest.

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

    /// Reads `arguments`.
    /// - Throws: `LaunchError.invalidArgument` naming the flag when a value is missing
    ///   or not a positive integer, or when there is no `--checkpoint-dir` (a restart
    ///   needs somewhere to resume from).
    public init(_ arguments: [String]) throws {
        self.arguments = arguments
        func value(_ names: [String]) throws -> String? {
            var found: String?
            var i = 0
            while i < arguments.count {
                let a = arguments[i]
                for n in names {
                    if a == n {
                        guard i + 1 < arguments.count else { throw LaunchError.invalidArgument("train argument \(n) has no value") }
                        found = arguments[i + 1]
                    } else if a.hasPrefix(n + "=") {
                        found = String(a.dropFirst(n.count + 1))
                    }
                }
                i += 1
            }
            return found
        }
        func positive(_ names: [String], default d: Int) throws -> Int {
            guard let text = try value(names) else { return d }
            guard let v = Int(text), v > 0 else {
                throw LaunchError.invalidArgument("train argument \(names[0]) must be a positive integer, got '\(text)'")
            }
            return v
        }
        globalBatch = try positive(["--global-batch", "--batch-size"], default: 128)
        virtualShards = arguments.contains("--deterministic") ? try positive(["--virtual-shards"], default: 8) : nil
        guard let dir = try value(["--checkpoint-dir"]), !dir.isEmpty else {
            throw LaunchError.invalidArgument("cohort launch needs --checkpoint-dir in the train arguments: restarts resume from its newest complete checkpoint")
        }
        checkpointDirectory = dir
        resume = try value(["--resume"])
    }

    /// The arguments for `attempt`: the user's own on the first attempt (with
    /// `--resume auto` added when they gave no `--resume`), and `--resume auto` in
    /// place of any explicit path afterwards — the newest complete checkpoint wins.
    /// `--collective-timeout` is added when the user did not set it.
    public func forAttempt(_ attempt: Int, collectiveTimeout: Double) -> [String] {
        var out: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if attempt > 0 && a == "--resume" { i += 2; continue }
            if attempt > 0 && a.hasPrefix("--resume=") { i += 1; continue }
            out.append(a)
            i += 1
        }
        if attempt > 0 || resume == nil { out += ["--resume", "auto"] }
        if !arguments.contains(where: { $0 == "--collective-timeout" || $0.hasPrefix("--collective-timeout=") }) {
            out += ["--collective-timeout", plainNumber(collectiveTimeout)]
        }
        return out
    }
}

/// `30`, `0.5`: a number as a command-line value.
func plainNumber(_ s: Double) -> String { s == s.rounded() && abs(s) < 1e15 ? String(Int(s)) : String(s) }
