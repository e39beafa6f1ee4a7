// The result folder of a sweep: plan.json (what was asked), machine.json (where
// it ran), results.jsonl (one line per finished run, appended and flushed as runs
// end, so an interrupted sweep resumes where it stopped), results.csv, runs/ (each
// run's summary and log), report.md and plots/ (rendered from the results).
import CohortCore
import Foundation

/// Reads and writes a sweep's result folder.
public struct ScaleStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public var planPath: String { directory + "/plan.json" }
    public var resultsPath: String { directory + "/results.jsonl" }
    public var machinePath: String { directory + "/machine.json" }
    public var runsDirectory: String { directory + "/runs" }

    /// Creates the folder with `plan`, or checks that an existing one holds the same plan
    /// (so `cohort scale` on the same folder resumes instead of mixing two sweeps).
    public func prepare(_ plan: ScalePlan) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: runsDirectory, withIntermediateDirectories: true)
        if let existing = try? loadPlan() {
            guard existing == plan else {
                throw CohortError.badFile(path: planPath, "holds another sweep's plan (\(ScaleStore.describe(existing))); "
                                          + "this one is \(ScaleStore.describe(plan)). Use another --out or remove the folder")
            }
            return
        }
        try write(try ScaleStore.encoder.encode(plan), to: planPath)
    }

    public func loadPlan() throws -> ScalePlan {
        guard let data = FileManager.default.contents(atPath: planPath) else { throw CohortError.badFile(path: planPath, "not found: not a cohort scale folder") }
        do { return try JSONDecoder().decode(ScalePlan.self, from: data) } catch {
            throw CohortError.badFile(path: planPath, "unreadable plan: \(error)")
        }
    }

    /// Every recorded run; a torn last line (the sweep was killed mid-write) is ignored.
    public func loadRuns() throws -> [ScaleRun] {
        guard let data = FileManager.default.contents(atPath: resultsPath) else { return [] }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        var runs: [ScaleRun] = []
        for (i, line) in lines.enumerated() {
            do { runs.append(try JSONDecoder().decode(ScaleRun.self, from: Data(line.utf8))) } catch {
                if i == lines.count - 1 { break }
                throw CohortError.badFile(path: resultsPath, "line \(i + 1) is not a run record: \(error)")
            }
        }
        return runs
    }

    /// Appends one run and flushes it to disk.
    public func append(_ run: ScaleRun) throws {
        var line = try JSONEncoder().encode(run)
        line.append(0x0A)
        if !FileManager.default.fileExists(atPath: resultsPath) { _ = FileManager.default.createFile(atPath: resultsPath, contents: nil) }
        guard let h = FileHandle(forWritingAtPath: resultsPath) else { throw CohortError.badFile(path: resultsPath, "cannot open for appending") }
        defer { try? h.close() }
        try h.seekToEnd()
        try h.write(contentsOf: line)
        try h.synchronize()
    }

    /// results.csv: one row per run, phases as columns.
    public func writeCSV(_ runs: [ScaleRun], plan: ScalePlan) throws {
        let knobs = plan.vary.map(\.knob.rawValue)
        var rows = [(["ranks"] + knobs + ["round", "status", "global_batch", "timed_steps", "samples_per_s", "tokens_per_s"]
                     + ScaleStore.phaseNames.map { "\($0)_s" } + ["gradient_bytes", "transport", "blas_kernel", "blas_threads", "wall_s", "error"])
                    .joined(separator: ",")]
        for r in runs {
            let c = r.configuration
            var f = [String(c.ranks)] + knobs.map { c.values[$0] ?? "" }
            f += [String(r.round), r.status, String(r.globalBatch), String(r.timedSteps), String(format: "%.3f", r.samplesPerSecond),
                  r.tokensPerSecond.map { String(format: "%.1f", $0) } ?? ""]
            f += ScaleStore.phaseNames.map { r.phases[$0].map { String(format: "%.6f", $0) } ?? "" }
            f += [String(r.gradientBytes), r.transport, r.blasKernel, String(r.blasThreads), String(format: "%.2f", r.wallSeconds),
                  ScaleStore.csvField(r.error ?? "")]
            rows.append(f.joined(separator: ","))
        }
        try write(Data((rows.joined(separator: "\n") + "\n").utf8), to: directory + "/results.csv")
    }

    /// Writes `data` to `path` through a temporary file and a rename (never half-written).
    public func write(_ data: Data, to path: String) throws {
        let tmp = path + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: data) else { throw CohortError.badFile(path: tmp, "cannot write") }
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: tmp, toPath: path)
    }

    public static let phaseNames = ["data", "compute", "comm_wait", "optimizer", "total"]

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return e
    }()

    static func describe(_ p: ScalePlan) -> String {
        "ranks \(p.ranks.map(String.init).joined(separator: ",")), \(p.mode.rawValue), \(p.steps)+\(p.warmup) steps, "
            + "\(p.repeats) repeats, vary [\(p.vary.map { "\($0.knob.rawValue)=\($0.values.joined(separator: ","))" }.joined(separator: " "))], "
            + "batch \(p.batch), train \(p.trainArguments.joined(separator: " "))"
    }

    static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}
