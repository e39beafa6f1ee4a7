// `cohort cv --folds K -- <train arguments>`: k-fold cross-validation of a CSV
// classifier. Each fold is one `cohort train --cv-fold i --cv-folds K` run (a
// fresh process, the same seed, so the folds partition the data the same way
// every time); the held-out metrics are reported per fold and as a mean with a
// t-based 95 % interval over the folds.
import ArgumentParser
import CohortCore
import CohortStats
import CohortTrainer
import Foundation

struct CrossValidate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cv",
        abstract: "K-fold cross-validation of a CSV classifier (each fold a cohort train run).",
        discussion: "Example: cohort cv --folds 5 -- --data ../shared/data/iris/iris.csv --hidden 16 --epochs 100")

    @Option(help: "Number of stratified folds.") var folds = 5
    @Option(help: "Directory for each fold's summary JSON (default: a temporary directory, removed afterwards).") var out: String?
    @Flag(help: "Print one JSON object instead of the table.") var json = false
    @Argument(parsing: .postTerminator, help: "cohort train arguments (after --), including --data FILE.csv.") var trainArguments: [String] = []

    static let metrics = ["test_accuracy", "test_macro_f1", "test_log_loss"]

    func run() throws { try exitingOnErrors { try crossValidate() } }

    func crossValidate() throws {
        guard folds >= 2 else { throw CohortError.badFlag(flag: "--folds", "\(folds) folds; give at least 2") }
        for owned in ["--cv-fold", "--cv-folds", "--summary-json"] where trainArguments.contains(where: { $0 == owned || $0.hasPrefix(owned + "=") }) {
            throw CohortError.badFlag(flag: owned, "is set by cohort cv; remove it after --")
        }
        guard trainArguments.contains(where: { $0.lowercased().hasSuffix(".csv") }) else {
            throw CohortError.badFlag(flag: "--data", "cohort cv needs --data FILE.csv after --")
        }
        let dir = out ?? FileManager.default.temporaryDirectory.appendingPathComponent("cohort-cv-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { if out == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        var perFold: [[String: Double]] = []
        for i in 1...folds {
            let summary = dir + "/fold-\(i).json"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: me)
            p.arguments = ["train"] + trainArguments + ["--cv-fold", String(i), "--cv-folds", String(folds), "--summary-json", summary,
                                                         "--log-every", "1000000000"]
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            guard p.terminationStatus == 0,
                  let obj = FileManager.default.contents(atPath: summary).flatMap({ try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }) else {
                let line = text.split(separator: "\n").last(where: { $0.contains("Error") }) ?? text.split(separator: "\n").last ?? ""
                throw CohortError.invalidArgument("fold \(i) of \(folds) failed (exit \(p.terminationStatus)): \(line)")
            }
            var row: [String: Double] = [:]
            for m in CrossValidate.metrics { row[m] = obj[m] as? Double }
            perFold.append(row)
            if !json { Log.main(String(format: "fold %d/%d: accuracy %.4f, macro F1 %.4f, log-loss %.4f", i, folds,
                                       row["test_accuracy"] ?? .nan, row["test_macro_f1"] ?? .nan, row["test_log_loss"] ?? .nan)) }
        }
        var summaryOut: [String: Any] = ["folds": folds]
        var lines: [String] = []
        for m in CrossValidate.metrics {
            let values = perFold.compactMap { $0[m] }
            guard values.count == folds else { continue }
            let ci = try tConfidenceInterval(values)
            summaryOut[m] = ["mean": ci.estimate, "ci95_lower": ci.lower, "ci95_upper": ci.upper, "folds": values]
            lines.append(String(format: "%@: %.4f ± %.4f (95 %% CI [%.4f, %.4f] over %d folds)", m, ci.estimate, ci.width / 2, ci.lower, ci.upper, folds))
        }
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: summaryOut, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
        } else {
            for l in lines { print(l) }
        }
    }
}
