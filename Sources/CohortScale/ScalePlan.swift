// What a scaling sweep runs: world sizes × the values of each varied knob, each
// configuration repeated, rounds interleaved (every round runs every
// configuration once, starting at a different one) so drift on a shared machine
// hits all configurations alike. A plan is saved with its results so a sweep can
// be resumed, and refuses to mix with results of another plan.
import CohortCore
import Foundation

/// Strong scaling keeps the global batch; weak scaling keeps the per-rank batch.
public enum ScaleMode: String, Codable, Sendable, CaseIterable {
    case strong, weak
}

/// A knob varied across configurations and how each value reaches the run.
public enum ScaleKnob: String, Codable, Sendable, CaseIterable {
    /// `--bucket-mb V` (gradient bucket size in MB).
    case bucketMB = "bucket-mb"
    /// `--threads V` (BLAS threads per rank).
    case threads
    /// `deterministic=on` adds `--deterministic`.
    case deterministic
    /// `shm` (node-local shared-memory averaging, the default) or `tcp` (MPI allreduce over TCP).
    case transport

    /// The `cohort train` flag this knob sets (nil: the transport, set through mpirun and the environment).
    var flag: TrainFlag? {
        switch self {
        case .bucketMB: return TrainFlags.bucketMB
        case .threads: return TrainFlags.threads
        case .deterministic: return TrainFlags.deterministic
        case .transport: return nil
        }
    }

    /// The values this knob accepts, or nil for any positive number.
    var choices: [String]? {
        switch self {
        case .bucketMB, .threads: return nil
        case .deterministic: return ["off", "on"]
        case .transport: return ["shm", "tcp"]
        }
    }
}

/// One point of the sweep: a world size and one value per varied knob.
public struct ScaleConfiguration: Codable, Sendable, Hashable {
    public var ranks: Int
    /// Knob name → value, in the plan's knob order (see `label`).
    public var values: [String: String]

    public init(ranks: Int, values: [String: String]) {
        self.ranks = ranks
        self.values = values
    }

    /// Stable identifier, e.g. `np4` or `np4 bucket-mb=25 transport=tcp` (knobs sorted by name).
    public var label: String {
        (["np\(ranks)"] + values.keys.sorted().map { "\($0)=\(values[$0]!)" }).joined(separator: " ")
    }

    /// The same knob values at another world size (the baseline of speedup and efficiency is `ranks: 1`).
    public func with(ranks: Int) -> ScaleConfiguration { ScaleConfiguration(ranks: ranks, values: values) }

    /// Knob values without the world size: configurations with equal `series` form one line of a plot.
    public var series: String {
        values.isEmpty ? "default" : values.keys.sorted().map { "\($0)=\(values[$0]!)" }.joined(separator: " ")
    }
}

/// A whole sweep.
public struct ScalePlan: Codable, Sendable, Equatable {
    public var ranks: [Int]
    public var mode: ScaleMode
    /// Timed steps per run, after `warmup` untimed ones.
    public var steps: Int
    public var warmup: Int
    public var repeats: Int
    /// Varied knobs with their values, in the order given.
    public var vary: [Vary]
    /// `cohort train` arguments without `--global-batch`, `--steps` and `--summary-json`.
    public var trainArguments: [String]
    /// Global batch at 1 rank (strong: at every size; weak: per rank).
    public var batch: Int

    public struct Vary: Codable, Sendable, Equatable {
        public var knob: ScaleKnob
        public var values: [String]
    }

    /// Validates the sweep; every error names the parameter (or the train argument) at fault.
    /// - Parameter vary: `knob=v1,v2` strings as given to `--vary`.
    public init(ranks: [Int], mode: ScaleMode, steps: Int, warmup: Int, repeats: Int, vary: [String], trainArguments: [String]) throws {
        guard !ranks.isEmpty, ranks.allSatisfy({ $0 >= 1 }), Set(ranks).count == ranks.count else {
            throw CohortError.invalidParameter(name: "ranks", "give distinct world sizes ≥ 1, e.g. 1,2,4; got \(ranks)")
        }
        guard steps >= 1 else { throw CohortError.invalidParameter(name: "steps", "\(steps) timed steps; give at least 1") }
        guard warmup >= 0 else { throw CohortError.invalidParameter(name: "warmup", "\(warmup) must be ≥ 0") }
        guard repeats >= 1 else { throw CohortError.invalidParameter(name: "repeats", "\(repeats) must be ≥ 1") }
        var parsed: [Vary] = []
        for spec in vary {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let knob = ScaleKnob(rawValue: parts[0]) else {
                throw CohortError.invalidParameter(name: "vary", "'\(spec)' is not KNOB=V1,V2,…; knobs: \(ScaleKnob.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let values = parts[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !values.isEmpty, Set(values).count == values.count else {
                throw CohortError.invalidParameter(name: "vary", "'\(spec)': give distinct values")
            }
            for v in values {
                if let choices = knob.choices {
                    guard choices.contains(v) else { throw CohortError.invalidParameter(name: "vary", "\(knob.rawValue)=\(v): expected one of \(choices.joined(separator: ", "))") }
                } else {
                    guard let x = Double(v), x > 0 else { throw CohortError.invalidParameter(name: "vary", "\(knob.rawValue)=\(v): expected a positive number") }
                }
            }
            guard !parsed.contains(where: { $0.knob == knob }) else { throw CohortError.invalidParameter(name: "vary", "\(knob.rawValue) is varied twice") }
            parsed.append(Vary(knob: knob, values: values))
        }
        // The sweep owns these flags; the rest passes through to every run.
        let given = TrainArgumentList(trainArguments)
        let batch = try given.positiveInteger(TrainFlags.globalBatch)
        let owned = [TrainFlags.steps, TrainFlags.epochs, TrainFlags.summaryJSON, TrainFlags.resume, TrainFlags.stepTimes,
                     TrainFlags.checkpointDirectory, TrainFlags.checkpointEvery]
        if let flag = given.firstGiven(of: owned) {
            throw CohortError.badFlag(flag: flag.name, "is set by cohort scale (use --steps and --warmup of cohort scale); remove it after --")
        }
        if let flag = given.firstGiven(of: parsed.compactMap(\.knob.flag)) {
            throw CohortError.badFlag(flag: flag.name, "is varied by --vary; remove it after --")
        }
        let rest = given.removing(TrainFlags.globalBatch).arguments
        if mode == .strong, let bad = ranks.first(where: { batch % $0 != 0 }) {
            throw CohortError.badFlag(flag: TrainFlags.globalBatch.name, "\(batch) does not divide among \(bad) ranks (strong scaling keeps the global batch)")
        }
        self.ranks = ranks.sorted()
        self.mode = mode
        self.steps = steps
        self.warmup = warmup
        self.repeats = repeats
        self.vary = parsed
        self.trainArguments = rest
        self.batch = batch
    }

    /// Every configuration: world sizes × knob values (the first knob varies slowest).
    public var configurations: [ScaleConfiguration] {
        var combos: [[String: String]] = [[:]]
        for v in vary {
            combos = combos.flatMap { c in v.values.map { value in c.merging([v.knob.rawValue: value]) { $1 } } }
        }
        return ranks.flatMap { r in combos.map { ScaleConfiguration(ranks: r, values: $0) } }
    }

    /// The order of round `round` (0-based): all configurations, rotated by the round
    /// number so no configuration always runs first (right after a cold start) or last.
    public func order(round: Int) -> [ScaleConfiguration] {
        let all = configurations
        let k = round % all.count
        return Array(all[k...] + all[..<k])
    }

    /// Global batch of a configuration.
    public func globalBatch(_ c: ScaleConfiguration) -> Int { mode == .strong ? batch : batch * c.ranks }

    /// `cohort train` arguments for one run of `c` writing its summary to `summary` and its one
    /// checkpoint (at the end, outside the timed steps; `cohort launch` needs a directory) to `checkpoints`.
    public func trainArguments(_ c: ScaleConfiguration, summary: String, checkpoints: String) -> [String] {
        let runLength = String(warmup + steps)
        var args = TrainArgumentList(trainArguments)
            .adding(TrainFlags.globalBatch, String(globalBatch(c))).adding(TrainFlags.steps, runLength).adding(TrainFlags.stepTimes)
            .adding(TrainFlags.summaryJSON, summary).adding(TrainFlags.logEvery, "1000000000")
            .adding(TrainFlags.checkpointDirectory, checkpoints).adding(TrainFlags.checkpointEvery, runLength)
        if let v = c.values[ScaleKnob.bucketMB.rawValue] { args = args.adding(TrainFlags.bucketMB, v) }
        if let v = c.values[ScaleKnob.threads.rawValue] { args = args.adding(TrainFlags.threads, v) }
        if c.values[ScaleKnob.deterministic.rawValue] == "on" { args = args.adding(TrainFlags.deterministic) }
        return ["train"] + args.arguments
    }

    /// Environment settings and extra mpirun arguments of `c` (the transport knob).
    public func transport(_ c: ScaleConfiguration) -> (environment: [String: String], mpirunArguments: [String]) {
        guard c.values[ScaleKnob.transport.rawValue] == "tcp" else { return ([:], []) }
        // MPI's TCP transport even between ranks on one node, and no shared-memory averaging.
        return (["COHORT_SHARED_MEMORY": "0"], ["-x", "COHORT_SHARED_MEMORY", "--mca", "btl", "tcp,self", "--mca", "pml", "ob1"])
    }
}
