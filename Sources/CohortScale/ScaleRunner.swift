// Runs a sweep: round by round, every configuration once per round in the
// plan's rotated order, each as its own job; a finished run is appended to
// results.jsonl before the next starts, so killing the sweep loses at most the
// run in flight and running it again continues with what is missing.
import Foundation

/// How one run ended, as the launcher saw it.
public struct ScaleJobOutcome: Sendable {
    /// Exit status of the job (0: success).
    public var status: Int32
    public var seconds: Double
    /// Why it failed, in a few words (e.g. the last lines of its log).
    public var detail: String

    public init(status: Int32, seconds: Double, detail: String) {
        self.status = status; self.seconds = seconds; self.detail = detail
    }
}

/// Drives a sweep; `launch` runs one job (`cohort launch …` in the CLI, a fake in tests).
public struct ScaleRunner {
    public let plan: ScalePlan
    public let store: ScaleStore
    /// Runs `configuration`, writing its `--summary-json` to `summary` and its output to `log`.
    public let launch: (_ configuration: ScaleConfiguration, _ trainArguments: [String], _ summary: String, _ log: String) throws -> ScaleJobOutcome

    public init(plan: ScalePlan, store: ScaleStore,
                launch: @escaping (ScaleConfiguration, [String], String, String) throws -> ScaleJobOutcome) {
        self.plan = plan; self.store = store; self.launch = launch
    }

    /// Runs what results.jsonl does not hold yet (failed runs count as done); returns the number of runs made.
    @discardableResult
    public func run(progress: (String) -> Void = { _ in }) throws -> Int {
        try store.prepare(plan)
        let done = Set(try store.loadRuns().map { "\($0.round) \($0.configuration.label)" })
        let total = plan.repeats * plan.configurations.count
        if !done.isEmpty && done.count < total { progress("resuming: \(done.count) of \(total) runs already recorded") }
        var made = 0, failures = 0
        var firstFailure: String?
        for round in 0..<plan.repeats {
            for c in plan.order(round: round) where !done.contains("\(round) \(c.label)") {
                let name = "r\(round + 1)-" + c.label.replacingOccurrences(of: " ", with: "_").replacingOccurrences(of: "=", with: "-")
                let summary = store.runsDirectory + "/\(name).json", log = store.runsDirectory + "/\(name).log"
                let checkpoints = store.runsDirectory + "/\(name)-checkpoints"
                try? FileManager.default.removeItem(atPath: summary)
                try? FileManager.default.removeItem(atPath: checkpoints)
                let started = Date().timeIntervalSince1970
                let outcome = try launch(c, plan.trainArguments(c, summary: summary, checkpoints: checkpoints), summary, log)
                try? FileManager.default.removeItem(atPath: checkpoints)   // only there because cohort launch needs it
                var run: ScaleRun
                if outcome.status == 0 {
                    do {
                        run = try ScaleRun.parse(summary: summary, configuration: c, round: round, warmup: plan.warmup,
                                                 wallSeconds: outcome.seconds, started: started)
                    } catch {
                        run = .failed(c, round: round, globalBatch: plan.globalBatch(c), error: "\(error)", wallSeconds: outcome.seconds, started: started)
                    }
                } else {
                    run = .failed(c, round: round, globalBatch: plan.globalBatch(c),
                                  error: "exit \(outcome.status): \(outcome.detail) (log: \(log))", wallSeconds: outcome.seconds, started: started)
                }
                try store.append(run)
                made += 1
                failures += run.ok ? 0 : 1
                // A mistake in the arguments fails every run: stop after a whole round of failures.
                if failures == made && made >= plan.configurations.count {
                    throw ScaleError.allRunsFailed(first: firstFailure ?? run.error ?? "")
                }
                if !run.ok && firstFailure == nil { firstFailure = run.error }
                let done = made + self.doneCount(done)
                progress(run.ok ? String(format: "[%d/%d] round %d %@: %.1f samples/s (%.1f s)", done, total, round + 1, c.label, run.samplesPerSecond, run.wallSeconds)
                         : "[\(done)/\(total)] round \(round + 1) \(c.label): FAILED — \(run.error ?? "")")
            }
        }
        return made
    }

    private func doneCount(_ done: Set<String>) -> Int { done.count }
}

/// Why a sweep stopped early.
public enum ScaleError: Error, CustomStringConvertible {
    case allRunsFailed(first: String)
    public var description: String {
        switch self {
        case let .allRunsFailed(first):
            return "every run of a whole round failed, so the sweep stopped (results so far are kept). The first failure: \(first)"
        }
    }
}
