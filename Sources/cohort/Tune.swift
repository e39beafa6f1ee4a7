// `cohort tune --space space.yaml --trials N --strategy grid|random|halving -- <train arguments>`:
// hyperparameter search. Each trial is a `cohort train` process with the base
// arguments plus its own values; up to --parallel trials run at once. With
// halving, trials train in stages (`--halt-at`, then `--resume auto` from their
// checkpoint) and only the best 1/η of each stage go on. Trials rank on a validation
// metric (a --val-split part of the training data); the test split is never used to
// rank and is reported for the best trial only. The result is a ranked table,
// results.json, and the best configuration as a --config file.
import ArgumentParser
import CohortCore
import CohortTune
import Foundation
import Yams

struct Tune: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Hyperparameter search over cohort train runs: grid, random or successive halving.",
        discussion: """
            space.yaml maps cohort train options to domains: a list (choices), or {uniform: [lo, hi]}, \
            {log-uniform: [lo, hi]}, {int: [lo, hi]}, {choice: [...]}. Example: \
            cohort tune --space space.yaml --trials 12 --strategy halving -- --data wine.csv --steps 300
            """)

    @Option(help: "YAML file: cohort train options and their domains.") var space: String
    @Option(parsing: .unconditional, help: "Trials: random and halving draw this many (halving: how many start); grid runs every combination.") var trials = 8
    @Option(help: "grid, random or halving.") var strategy = "random"
    @Option(help: "Validation metric to optimize (default: val_accuracy, else val_loss, val_exact_match, val_r2 — whichever the task reports); test_* metrics are refused.") var metric: String?
    @Option(name: .customLong("val-split"), help: "Validation fraction of every trial's training data (cohort train --val-split), unless given after --.") var valSplit = 0.2
    @Option(help: "min or max (default: min for names ending in loss/mae/mse/rmse/mase/error, else max).") var mode: String?
    @Option(parsing: .unconditional, help: "Trials run at once (separate processes).") var parallel = 1
    @Option(parsing: .unconditional, help: "Halving: keep the best 1/eta of each rung.") var eta = 3
    @Option(name: .customLong("min-steps"), parsing: .unconditional, help: "Halving: steps of the first rung (default: --steps ÷ eta²).") var minSteps: Int?
    @Option(parsing: .unconditional, help: "Seed of the random draws.") var seed: UInt64 = 0
    @Option(help: "Directory for trials, results.json and best.yaml.") var out = "runs/tune"
    @Argument(parsing: .postTerminator, help: "cohort train arguments (after --).") var trainArguments: [String] = []

    func run() throws { try exitingOnErrors { try tune() } }

    func tune() throws {
        guard ["grid", "random", "halving"].contains(strategy) else { throw CohortError.badFlag(flag: "--strategy", "must be grid, random or halving, got '\(strategy)'") }
        guard parallel >= 1 else { throw CohortError.badFlag(flag: "--parallel", "must be ≥ 1, got \(parallel)") }
        let given = TrainArgumentList(trainArguments)
        let owned = [TrainFlags.summaryJSON, TrainFlags.checkpointDirectory, TrainFlags.resume, TrainFlags.haltAt, TrainFlags.logDirectory]
        if let flag = given.firstGiven(of: owned) {
            throw CohortError.badFlag(flag: flag.name, "is set by cohort tune for each trial; remove it after --")
        }
        if let metric, !metric.hasPrefix("val_") {
            throw CohortError.badFlag(flag: "--metric", "'\(metric)' is not a validation metric; trials are ranked on val_* metrics "
                                      + "(e.g. val_\(metric.drop { $0 != "_" }.dropFirst())) so that the test split stays unseen until the best trial's report")
        }
        let searchSpace = try TuneSpace.load(space)
        if let split = try given.value(TrainFlags.valSplit), !((Double(split) ?? 0) > 0) {
            throw CohortError.badFlag(flag: TrainFlags.valSplit.name, "\(split) after -- leaves the trials no validation part to rank on; give a fraction in (0, 1) or leave it to cohort tune's --val-split")
        }
        guard valSplit > 0, valSplit < 1 else { throw CohortError.badFlag(flag: "--val-split", "must be in (0, 1), got \(valSplit)") }
        for (name, _) in searchSpace.options where given.contains(TrainFlag("--" + name)) {
            throw CohortError.badFlag(flag: "--" + name, "is searched (\(space)) and also given after --; remove one")
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let runner = TrialRunner(program: Tune.executable, out: out, base: trialArguments, parallel: parallel)
        var table: [TrialRecord]
        switch strategy {
        case "grid": table = try runner.run(try searchSpace.grid().enumerated().map { TrialRecord(id: $0.offset + 1, params: $0.element) }, haltAt: nil, staged: false)
        case "random": table = try runner.run(searchSpace.sample(trials, seed: seed).enumerated().map { TrialRecord(id: $0.offset + 1, params: $0.element) }, haltAt: nil, staged: false)
        default: table = try halving(searchSpace, runner)
        }
        let name = try metric ?? TuneSpace.defaultMetric(table)
        let goal = try goalFor(name)
        for i in table.indices { table[i].score = table[i].summary?[name] as? Double ?? .nan }
        try report(table, metric: name, goal: goal)
    }

    /// This `cohort` executable, which every trial runs.
    static var executable: String { URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path }

    /// The train arguments of every trial: the ones after --, with a validation split.
    var trialArguments: [String] {
        let given = TrainArgumentList(trainArguments)
        return given.contains(TrainFlags.valSplit) ? trainArguments : given.adding(TrainFlags.valSplit, "\(valSplit)").arguments
    }

    func goalFor(_ name: String) throws -> Goal {
        if let mode {
            guard let g = Goal(rawValue: mode) else { throw CohortError.badFlag(flag: "--mode", "must be min or max, got '\(mode)'") }
            return g
        }
        return ["loss", "mae", "mse", "rmse", "mase", "error"].contains { name.hasSuffix($0) } ? .minimize : .maximize
    }

    /// Successive halving over `trials` random draws: rung k trains survivors to rungSteps[k].
    func halving(_ space: SearchSpace, _ runner: TrialRunner) throws -> [TrialRecord] {
        guard let stepsText = try TrainArgumentList(trainArguments).value(TrainFlags.steps), let maxSteps = Int(stepsText) else {
            throw CohortError.badFlag(flag: "--steps", "--strategy halving needs the full budget as --steps N after --")
        }
        let schedule = try HalvingSchedule(trials: trials, minSteps: minSteps ?? max(maxSteps / (eta * eta), 1), maxSteps: maxSteps, eta: eta)
        Log.main("halving: \(trials) trials, rungs at \(schedule.rungSteps.map(String.init).joined(separator: " → ")) steps "
                 + "(\(schedule.rungTrials.map(String.init).joined(separator: " → ")) trials), budget \(schedule.budget) steps")
        var records = space.sample(trials, seed: seed).enumerated().map { TrialRecord(id: $0.offset + 1, params: $0.element) }
        var alive = records.map(\.id)
        for (k, steps) in schedule.rungSteps.enumerated() {
            let last = k == schedule.rungSteps.count - 1
            let done = try runner.run(alive.map { records[$0 - 1] }, haltAt: last ? nil : steps, staged: true)
            for r in done { records[r.id - 1] = r }
            if last { break }
            let name = try metric ?? TuneSpace.defaultMetric(done)
            let goal = try goalFor(name)
            let survivors = best(done.map { ($0.id, $0.summary?[name] as? Double ?? .nan) }, keep: schedule.rungTrials[k + 1], goal: goal)
            for id in alive where !survivors.contains(id) { records[id - 1].stoppedAt = steps }
            Log.main("rung \(k + 1): \(alive.count) trials at \(steps) steps; continuing \(survivors.sorted().map { "#\($0)" }.joined(separator: " "))")
            alive = survivors.sorted()
        }
        return records
    }

    /// Prints the ranked table, writes results.json and the best configuration.
    func report(_ table: [TrialRecord], metric: String, goal: Goal) throws {
        // Trials that trained longer rank first (halving's finalists), then by the metric.
        let byScore = best(table.map { ($0.id, $0.score) }, keep: table.count, goal: goal)
        let steps = { (r: TrialRecord) in r.summary?["steps"] as? Int ?? 0 }
        let ranked = byScore.map { id in table.first { $0.id == id }! }.enumerated()
            .sorted { steps($0.element) != steps($1.element) ? steps($0.element) > steps($1.element) : $0.offset < $1.offset }.map(\.element)
        let names = table.first?.params.map(\.name) ?? []
        var lines = ["rank  trial  " + names.map { $0.padding(toLength: max($0.count, 10), withPad: " ", startingAt: 0) }.joined(separator: "  ")
                     + "  \(metric)    steps  status"]
        for (i, r) in ranked.enumerated() {
            let values = zip(names, r.params).map { n, p in p.value.padding(toLength: max(n.count, 10), withPad: " ", startingAt: 0) }
            let status = r.failed.map { "failed: \($0)" } ?? (r.stoppedAt.map { "stopped early at step \($0)" } ?? "completed")
            lines.append(String(format: "%4d  %5d  ", i + 1, r.id) + values.joined(separator: "  ")
                         + "  " + (r.score.isNaN ? "—" : String(format: "%.4f", r.score)).padding(toLength: metric.count + 4, withPad: " ", startingAt: 0)
                         + String(format: "%5d", r.summary?["steps"] as? Int ?? 0) + "  " + status)
        }
        let budget = table.reduce(0) { $0 + ($1.summary?["steps"] as? Int ?? 0) }
        print(lines.joined(separator: "\n"))
        print("budget: \(budget) training steps over \(table.count) trials (\(strategy))")
        let results: [[String: Any]] = ranked.enumerated().map { i, r in
            var o: [String: Any] = ["rank": i + 1, "trial": r.id, "params": Dictionary(uniqueKeysWithValues: r.params.map { ($0.name, $0.value) }),
                                    "steps": r.summary?["steps"] as? Int ?? 0, "status": r.failed == nil ? (r.stoppedAt == nil ? "completed" : "stopped") : "failed"]
            if !r.score.isNaN { o[metric] = r.score }
            if let s = r.stoppedAt { o["stopped_at_step"] = s }
            return o
        }
        // The test split, for the winner only: its score once training and ranking are over.
        let tested = ranked.first.map { TuneSpace.testMetrics($0, for: metric) } ?? []
        var resultsJSON: [String: Any] = ["strategy": strategy, "metric": metric, "mode": goal.rawValue, "budget_steps": budget, "trials": results]
        if let winner = ranked.first, !winner.score.isNaN {
            var best: [String: Any] = ["trial": winner.id, metric: winner.score]
            for t in tested { best[t.name] = t.value }
            resultsJSON["best"] = best
        }
        try writeJSON(resultsJSON, to: out + "/results.json")
        guard let winner = ranked.first, !winner.score.isNaN else { throw CohortError.invalidArgument("no trial reported \(metric); see the logs in \(out)") }
        let shown = try TrialRunner.capture(Tune.executable, ["config", "show"] + trialArguments + winner.flags)
        try Data(("# cohort tune: best of \(table.count) trials by \(metric) (\(goal.rawValue)), trial \(winner.id)\n" + shown).utf8)
            .write(to: URL(fileURLWithPath: out + "/best.yaml"))
        print("best: trial \(winner.id) (\(metric) \(String(format: "%.4f", winner.score))); its configuration: \(out)/best.yaml (cohort train --config)")
        if !tested.isEmpty {
            print("test split of trial \(winner.id) (not used to rank): " + tested.map { String(format: "%@ %.4f", $0.name, $0.value) }.joined(separator: ", "))
        }
    }
}
