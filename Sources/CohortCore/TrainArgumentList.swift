// The one reading of `cohort train` arguments outside `cohort train` itself.
// `cohort launch`, `cohort scale`, `cohort cv` and `cohort tune` all take a train
// command line after `--` and must agree with `cohort train` on what it says: which
// names a flag has (`--global-batch` or `--batch-size`), what it defaults to, which
// occurrence wins. `TrainFlags` declares those shared flags once; `cohort train`
// declares its options from the same names and defaults, and CLITests checks the two
// against ArgumentParser's own description of the command.

/// A `cohort train` option that other commands read, set or forbid in a train argument list.
public struct TrainFlag: Sendable, Hashable {
    /// Its names with `--`, the preferred one first (`--global-batch`, `--batch-size`).
    public let names: [String]
    /// False for a Boolean flag (`--deterministic`), true for an option with a value.
    public let takesValue: Bool
    /// `cohort train`'s default when the option is absent, as text; nil when it has none.
    public let defaultValue: String?

    /// The preferred name (`--global-batch`).
    public var name: String { names[0] }

    public init(_ names: String..., takesValue: Bool = true, default defaultValue: String? = nil) {
        precondition(!names.isEmpty && names.allSatisfy { $0.hasPrefix("--") }, "train flag names start with --")
        self.names = names
        self.takesValue = takesValue
        self.defaultValue = defaultValue
    }

    /// True when `argument` is this flag (`--name`) or this flag with an inline value (`--name=v`).
    func matches(_ argument: String) -> Bool {
        names.contains { argument == $0 || (takesValue && argument.hasPrefix($0 + "=")) }
    }
}

/// The `cohort train` options that the other commands read, set or forbid, with the names and
/// defaults `cohort train` declares (Sources/cohort/Train.swift uses these constants).
public enum TrainFlags {
    /// The global mini-batch (all ranks together).
    public static let globalBatch = TrainFlag("--global-batch", "--batch-size", default: String(defaultGlobalBatch))
    public static let defaultGlobalBatch = 128
    /// Bitwise-reproducible mode over virtual shards.
    public static let deterministic = TrainFlag("--deterministic", takesValue: false)
    /// Virtual shards per global batch in deterministic mode.
    public static let virtualShards = TrainFlag("--virtual-shards", default: String(defaultVirtualShards))
    public static let defaultVirtualShards = 8
    public static let checkpointDirectory = TrainFlag("--checkpoint-dir")
    public static let checkpointEvery = TrainFlag("--checkpoint-every", default: "500")
    public static let resume = TrainFlag("--resume")
    public static let saveBest = TrainFlag("--save-best")
    /// Seconds a collective wait may last.
    public static let collectiveTimeout = TrainFlag("--collective-timeout", default: "600.0")
    public static let steps = TrainFlag("--steps")
    public static let epochs = TrainFlag("--epochs", default: "3")
    public static let summaryJSON = TrainFlag("--summary-json")
    public static let stepTimes = TrainFlag("--step-times", takesValue: false)
    public static let threads = TrainFlag("--threads")
    public static let valSplit = TrainFlag("--val-split", default: "0.0")
    public static let haltAt = TrainFlag("--halt-at")
    public static let logDirectory = TrainFlag("--log-dir")
    public static let cvFold = TrainFlag("--cv-fold")
    public static let cvFolds = TrainFlag("--cv-folds", default: "5")
    public static let cvParallelFolds = TrainFlag("--cv-parallel-folds")
    public static let data = TrainFlag("--data")
    /// Gradient bucket size in MB.
    public static let bucketMB = TrainFlag("--bucket-mb", default: "25.0")
    public static let logEvery = TrainFlag("--log-every", default: "100")
    /// Dropout probability of the built-in models that take it.
    public static let dropout = TrainFlag("--dropout", default: "0.0")
    /// Label smoothing of the training cross-entropy.
    public static let labelSmoothing = TrainFlag("--label-smoothing", default: "0.0")
    /// The learning-rate schedule and its settings (Train+Schedule.swift).
    public static let lrSchedule = TrainFlag("--lr-schedule", default: "cosine")
    public static let warmup = TrainFlag("--warmup")
    public static let lrStepSize = TrainFlag("--lr-step-size")
    public static let lrGamma = TrainFlag("--lr-gamma")
    public static let lrMilestones = TrainFlag("--lr-milestones")
    public static let lrMax = TrainFlag("--lr-max")
    public static let lrPctStart = TrainFlag("--lr-pct-start")
    public static let lrPatience = TrainFlag("--lr-patience")
    public static let lrFactor = TrainFlag("--lr-factor")

    /// Every flag above (CLITests checks each against `cohort train`'s declaration).
    public static let all: [TrainFlag] = [
        globalBatch, deterministic, virtualShards, checkpointDirectory, checkpointEvery, resume, saveBest,
        collectiveTimeout, steps, epochs, summaryJSON, stepTimes, threads, valSplit, haltAt, logDirectory,
        cvFold, cvFolds, cvParallelFolds, data, bucketMB, logEvery, dropout, labelSmoothing,
        lrSchedule, warmup, lrStepSize, lrGamma, lrMilestones, lrMax, lrPctStart, lrPatience, lrFactor,
    ]
}

/// A `cohort train` argument list as another command received it (after `--`): what it
/// says about the shared flags, read the way `cohort train` reads them (any of a flag's
/// names, `--name v` or `--name=v`, the last occurrence winning), and edits that keep
/// everything else as the user wrote it.
public struct TrainArgumentList: Sendable, Equatable {
    /// The arguments, in order.
    public private(set) var arguments: [String]

    public init(_ arguments: [String]) { self.arguments = arguments }

    /// True when `flag` is given under any of its names.
    public func contains(_ flag: TrainFlag) -> Bool { arguments.contains { flag.matches($0) } }

    /// The value of the last occurrence of `flag`, or nil when it is absent.
    /// - Throws: `CohortError.badFlag` when the last `--name` has nothing after it.
    public func value(_ flag: TrainFlag) throws -> String? {
        var found: String?
        for (i, a) in arguments.enumerated() where flag.matches(a) {
            if let eq = a.firstIndex(of: "=") {
                found = String(a[a.index(after: eq)...])
            } else if i + 1 < arguments.count {
                found = arguments[i + 1]
            } else {
                throw CohortError.badFlag(flag: a, "has no value")
            }
        }
        return found
    }

    /// The value of `flag` as a positive integer; its default when absent.
    /// - Throws: `CohortError.badFlag` naming the flag when the value is missing or not a positive integer.
    public func positiveInteger(_ flag: TrainFlag) throws -> Int {
        guard let text = try value(flag) ?? flag.defaultValue else {
            throw CohortError.badFlag(flag: flag.name, "needs a value")
        }
        guard let v = Int(text), v > 0 else { throw CohortError.badFlag(flag: flag.name, "must be a positive integer, got '\(text)'") }
        return v
    }

    /// The same list without any occurrence of `flag` (and the value after a `--name`).
    public func removing(_ flag: TrainFlag) -> TrainArgumentList {
        var out: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if flag.matches(a) {
                i += flag.takesValue && !a.contains("=") ? 2 : 1
                continue
            }
            out.append(a)
            i += 1
        }
        return TrainArgumentList(out)
    }

    /// The list with `--name value` appended (a flag without a value when `value` is nil).
    public func adding(_ flag: TrainFlag, _ value: String? = nil) -> TrainArgumentList {
        TrainArgumentList(arguments + [flag.name] + (value.map { [$0] } ?? []))
    }

    /// The first of `flags` that is given, if any (for "set by this command" checks).
    public func firstGiven(of flags: [TrainFlag]) -> TrainFlag? { flags.first { contains($0) } }
}
