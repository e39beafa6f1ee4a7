// `cohort cv --folds K -- <train arguments>`: k-fold cross-validation of a CSV
// classifier or regression (`--task regression`). Each fold is one `cohort train
// --cv-fold i --cv-folds K` run (a fresh process, the same seed, so the folds
// partition the data the same way every time), or with `--parallel` one `mpirun
// -np K·R` job whose world splits into K groups of R ranks, one per fold; the
// held-out metrics are reported per fold and as a mean with a t-based 95 % interval
// over the folds, clamped to the metric's range (CrossValidateMetrics.swift).
import ArgumentParser
import CohortCollectives
import CohortCore
import CohortProcess
import CohortStats
import CohortRuntime
import CohortTrainer
import Foundation

struct CrossValidate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cv",
        abstract: "K-fold cross-validation of a CSV classifier or regression (each fold a cohort train run, or all folds in one mpirun job).",
        discussion: """
            Example: cohort cv --folds 5 -- --data ../shared/data/iris/iris.csv --hidden 16 --epochs 100
            With --parallel, one mpirun job of folds × ranks-per-fold ranks trains every fold at once, each fold data-parallel on its own group of ranks.
            """)

    @Option(parsing: .unconditional, help: "Number of stratified folds.") var folds = 5
    @Option(help: "Directory for each fold's summary JSON (default: a temporary directory, removed afterwards).") var out: String?
    @Flag(help: "Print one JSON object instead of the table.") var json = false
    @Flag(help: "Train all folds at once in one mpirun job (folds × --ranks-per-fold ranks) instead of one process after another.") var parallel = false
    @Option(name: .customLong("ranks-per-fold"), parsing: .unconditional, help: "With --parallel: ranks training each fold, data-parallel.") var ranksPerFold = 1
    @Argument(parsing: .postTerminator, help: "cohort train arguments (after --), including --data FILE.csv.") var trainArguments: [String] = []

    func run() throws { try exitingOnErrors { try crossValidate() } }

    func crossValidate() throws {
        try checkFlags()
        let dir = out ?? FileManager.default.temporaryDirectory.appendingPathComponent("cohort-cv-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if out == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        let summaries = parallel ? try runParallel(me, dir) : try (1...folds).map { try runFold($0, me, dir) }
        let (task, metrics) = try CVMetric.metrics(of: summaries)
        var perFold: [[String: Any]] = []
        for (i, obj) in summaries.enumerated() {
            var row: [String: Any] = ["fold": i + 1]
            for m in metrics { row[m.key] = obj[m.key] }
            perFold.append(row)
            if !json {
                Log.main("fold \(i + 1)/\(folds): " + metrics.map { m in String(format: "%@ %.4f", m.label, obj[m.key] as? Double ?? .nan) }.joined(separator: ", "))
            }
        }
        var summaryOut: [String: Any] = ["folds": folds, "task": task, "per_fold": perFold]
        var lines: [String] = []
        for m in metrics {
            let values = summaries.compactMap { $0[m.key] as? Double }
            let (ci, clamped) = try m.interval(values)
            summaryOut[m.key] = ["mean": ci.estimate, "ci95_lower": ci.lower, "ci95_upper": ci.upper, "folds": values,
                                 "ci95_clamped": clamped, "range": m.rangeText]
            let half = (try tConfidenceInterval(values)).width / 2
            lines.append(String(format: "%@: %.4f ± %.4f (95 %% CI [%.4f, %.4f] over %d folds%@)", m.key, ci.estimate, half, ci.lower, ci.upper, folds,
                                clamped ? ", clamped to the metric's range \(m.rangeText)" : ""))
        }
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: summaryOut, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
        } else {
            for l in lines { print(l) }
        }
    }

    /// Rejects flags cohort cv sets itself, and those a parallel run cannot honour.
    func checkFlags() throws {
        guard folds >= 2 else { throw CohortError.badFlag(flag: "--folds", "\(folds) folds; give at least 2") }
        guard ranksPerFold >= 1 else { throw CohortError.badFlag(flag: "--ranks-per-fold", "\(ranksPerFold); give at least 1") }
        if ranksPerFold != 1 && !parallel { throw CohortError.badFlag(flag: "--ranks-per-fold", "needs --parallel") }
        let given = TrainArgumentList(trainArguments)
        if let owned = given.firstGiven(of: [TrainFlags.cvFold, TrainFlags.cvFolds, TrainFlags.cvParallelFolds, TrainFlags.summaryJSON]) {
            throw CohortError.badFlag(flag: owned.name, "is set by cohort cv; remove it after --")
        }
        // Checkpoints record MPI's world, not the fold group, and all folds would share one directory.
        if parallel, let flag = given.firstGiven(of: [TrainFlags.checkpointDirectory, TrainFlags.resume, TrainFlags.saveBest]) {
            throw CohortError.badFlag(flag: flag.name, "cannot be used with cohort cv --parallel (folds do not checkpoint); drop --parallel to keep checkpoints")
        }
        guard trainArguments.contains(where: { $0.lowercased().hasSuffix(".csv") }) else {
            throw CohortError.badFlag(flag: "--data", "cohort cv needs --data FILE.csv after --")
        }
    }

    /// Arguments every fold's `cohort train` gets after the user's: its summary file, quiet progress.
    func foldArguments(summary: String) -> [String] {
        TrainArgumentList([]).adding(TrainFlags.summaryJSON, summary).adding(TrainFlags.logEvery, "1000000000").arguments
    }

    /// Fold `i` as its own `cohort train` process; returns its summary.
    func runFold(_ i: Int, _ me: String, _ dir: String) throws -> [String: Any] {
        let summary = dir + "/fold-\(i).json"
        let (status, text) = try CrossValidate.run(me, ["train"] + trainArguments + [TrainFlags.cvFold.name, String(i), TrainFlags.cvFolds.name, String(folds)]
                                                        + foldArguments(summary: summary))
        guard status == 0, let obj = CrossValidate.readSummary(summary) else {
            throw CohortError.invalidArgument("fold \(i) of \(folds) failed (exit \(status)): \(CrossValidate.errorLine(text))")
        }
        return obj
    }

    /// All folds in one `mpirun -np folds·ranksPerFold` job (`cohort train --cv-parallel-folds`):
    /// ranks [g·R, (g+1)·R) train fold g + 1, and each group's rank 0 writes `fold-{fold}.json`.
    func runParallel(_ me: String, _ dir: String) throws -> [[String: Any]] {
        guard let mpirun = CrossValidate.onPath("mpirun") else {
            throw CohortError.badFlag(flag: "--parallel", "needs OpenMPI's mpirun on PATH; drop --parallel to run the folds one after another")
        }
        let ranks = folds * ranksPerFold
        // One node, however many cores it has: oversubscribed like `bench allreduce` and the CLI tests.
        let (status, text) = try CrossValidate.run(mpirun, MPIRun(ranks: ranks, oversubscribe: true).options
                                                       + [me, "train"] + trainArguments + [TrainFlags.cvParallelFolds.name, String(folds)]
                                                       + foldArguments(summary: dir + "/fold-{fold}.json"))
        let summaries = (1...folds).map { CrossValidate.readSummary(dir + "/fold-\($0).json") }
        guard status == 0, summaries.allSatisfy({ $0 != nil }) else {
            let missing = summaries.indices.filter { summaries[$0] == nil }.map { String($0 + 1) }.joined(separator: ", ")
            throw CohortError.invalidArgument("parallel cross-validation (mpirun -np \(ranks), \(folds) folds × \(ranksPerFold) rank\(ranksPerFold == 1 ? "" : "s") each) failed "
                                              + "(exit \(status); no summary from fold \(missing.isEmpty ? "—" : missing)): \(CrossValidate.errorLine(text))")
        }
        return summaries.map { $0! }
    }

    /// Runs `executable arguments…` with standard output discarded; returns its exit status and standard error.
    static func run(_ executable: String, _ arguments: [String]) throws -> (Int32, String) {
        let r = try runChild([executable] + arguments, stdout: .discard, stderr: .capture)
        return (r.status.processStatus, String(decoding: r.stderr, as: UTF8.self))
    }

    /// A fold's summary JSON, or nil when it is missing or unreadable.
    static func readSummary(_ path: String) -> [String: Any]? {
        FileManager.default.contents(atPath: path).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    /// The line of a failed run's standard error that says why: a rank's `Error: …` (without the
    /// prefix), else the last line mentioning an error, else the last line.
    static func errorLine(_ text: String) -> Substring {
        let lines = text.split(separator: "\n")
        if let line = lines.first(where: { $0.hasPrefix("Error: ") }) { return line.dropFirst("Error: ".count) }
        return lines.last(where: { $0.contains("Error") }) ?? lines.last ?? ""
    }

    /// The first executable `name` in `PATH`.
    static func onPath(_ name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

extension Train {
    /// This rank's fold group under `cohort cv --parallel` (`--cv-parallel-folds K`): MPI's world
    /// split into K groups of consecutive ranks; group g (ranks [g·R, (g+1)·R)) trains and evaluates
    /// fold g + 1 data-parallel on its own communicator. Collective over `world`.
    /// - Throws: `CohortError.badFlag` when the world size is not a multiple of K, or with
    ///   `--cv-fold`, `--checkpoint-dir` or `--resume` (not per fold).
    func foldGroup(of world: any Communicator, folds: Int) throws -> (comm: any Communicator, fold: Int) {
        try World.checkSplit(worldSize: world.size, groups: folds, parameter: "cvParallelFolds")
        if cvFold != nil { throw CohortError.badFlag(flag: "--cv-fold", "cannot be combined with --cv-parallel-folds (each rank group trains the fold of its ranks)") }
        for (flag, value) in [("--checkpoint-dir", checkpointDir), ("--resume", resume)] where value != nil {
            throw CohortError.badFlag(flag: flag, "cannot be combined with --cv-parallel-folds (folds do not checkpoint)")
        }
        let group = try World.split(world, groups: folds, parameter: "cvParallelFolds")
        return (group.comm, group.group)
    }

    /// `path` with `{fold}` replaced by the fold number (`--cv-fold`, or this rank group's fold).
    func foldPath(_ path: String?) -> String? {
        guard let path, let cvFold else { return path }
        return path.replacingOccurrences(of: "{fold}", with: String(cvFold))
    }

    /// Logs one line of the run's outcome: on rank 0 of the job, or with `--cv-parallel-folds` on
    /// rank 0 (`rank`, in its group) of every fold group, prefixed with the fold.
    func logFoldLine(rank: Int, _ line: String) {
        guard let folds = cvParallelFolds else { return Log.main(line) }
        if rank == 0 { Log.info("fold \(cvFold ?? 0)/\(folds) \(line)") }
    }
}
