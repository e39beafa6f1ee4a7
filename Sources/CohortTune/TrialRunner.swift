// Running trials: each trial is a `cohort train` process (the given executable) with
// the base arguments plus its own values, its output appended to its train.log,
// at most `parallel` at once; a finished trial's summary JSON is read back.
import CohortCore
import CohortProcess
import Foundation

/// One trial: its values, and what its runs reported.
public struct TrialRecord {
    public var id: Int
    public var params: [(name: String, value: String)]
    /// The run's summary JSON (nil until a run finished and wrote one).
    public var summary: [String: Any]?
    /// Why its last run failed (nil: it did not).
    public var failed: String?
    /// Halving: the step it was stopped at (nil: trained the full budget).
    public var stoppedAt: Int?
    /// The ranking metric's value (NaN until ranked or when missing).
    public var score = Double.nan

    public init(id: Int, params: [(name: String, value: String)]) { self.id = id; self.params = params }

    /// `--name value` for each searched option (the trial's own `cohort train` arguments).
    public var flags: [String] { params.flatMap { ["--" + $0.name, $0.value] } }
}

/// Runs trials as `cohort train` processes, at most `parallel` at once.
public struct TrialRunner {
    /// The `cohort` executable the trials run.
    public let program: String
    /// The directory holding one `trial-NNN` folder per trial.
    public let out: String
    /// The `cohort train` arguments every trial shares.
    public let base: [String]
    /// Trials run at once.
    public let parallel: Int

    public init(program: String, out: String, base: [String], parallel: Int) {
        self.program = program
        self.out = out
        self.base = base
        self.parallel = parallel
    }

    /// The folder of trial `id`.
    public func directory(_ id: Int) -> String { out + String(format: "/trial-%03d", id) }

    /// Runs `trials` (continuing from their checkpoints when `haltAt` staging is in use) and reads their summaries.
    public func run(_ trials: [TrialRecord], haltAt: Int?, staged: Bool) throws -> [TrialRecord] {
        var environment = ProcessInfo.processInfo.environment
        if !TrainArgumentList(base).contains(TrainFlags.threads) && environment["OPENBLAS_NUM_THREADS"] == nil {
            environment["OPENBLAS_NUM_THREADS"] = String(max(1, ProcessInfo.processInfo.activeProcessorCount / parallel))
        }
        var results = trials
        var running: [(index: Int, process: ChildProcess)] = []
        var next = 0
        func finish(_ slot: (index: Int, process: ChildProcess)) throws {
            let status = slot.process.wait().processStatus
            let dir = directory(results[slot.index].id)
            if status == 0, let data = FileManager.default.contents(atPath: dir + "/summary.json"),
               let summary = try JSONSerialization.jsonObject(with: data) as? [String: Any] {
                results[slot.index].summary = summary
                results[slot.index].failed = nil
            } else {
                let log = (try? String(contentsOfFile: dir + "/train.log", encoding: .utf8)) ?? ""
                let last = log.split(separator: "\n").last(where: { $0.contains("Error") }) ?? log.split(separator: "\n").last ?? "no output"
                results[slot.index].failed = "exit \(status): \(last.prefix(160))"
                Log.warning("trial \(results[slot.index].id) failed: \(last.prefix(160)) (\(dir)/train.log)")
            }
        }
        while next < results.count || !running.isEmpty {
            while running.count < parallel && next < results.count {
                let trial = results[next]
                let dir = directory(trial.id)
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                var args = ["train"] + base + trial.flags + ["--summary-json", dir + "/summary.json", "--progress", "lines"]
                if let haltAt { args += ["--halt-at", String(haltAt)] }
                if staged { args += ["--checkpoint-dir", dir + "/checkpoints", "--resume", "auto", "--checkpoint-every", "100000000", "--keep-last", "1"] }
                let p = try ChildProcess(argv: [program] + args, environment: environment, stdout: .append(path: dir + "/train.log"), stderr: .sameAsStdout)
                Log.main("trial \(trial.id): " + trial.params.map { "\($0.name)=\($0.value)" }.joined(separator: " ") + (haltAt.map { " (to step \($0))" } ?? ""))
                running.append((next, p))
                next += 1
            }
            if let done = running.firstIndex(where: { $0.process.exitStatus != nil }) {
                try finish(running.remove(at: done))
            } else {
                usleep(20_000)
            }
        }
        return results
    }

    /// Runs `program args…` and returns its standard output.
    /// - Throws: `CohortError.invalidArgument` with its standard error when it fails.
    public static func capture(_ program: String, _ args: [String]) throws -> String {
        let r = try runChild([program] + args, stdout: .capture, stderr: .capture)
        guard r.status.processStatus == 0 else {
            throw CohortError.invalidArgument("cohort \(args.prefix(2).joined(separator: " ")) failed: \(String(decoding: r.stderr, as: UTF8.self))")
        }
        return String(decoding: r.stdout, as: UTF8.self)
    }
}
