// `cohort cv` reports the metrics of the task it cross-validates: MAE, RMSE and R²
// for `--task regression` (each fold holding out other rows), per fold and as means
// in --json; and its t-intervals stay inside each metric's range ([0, 1] for accuracy).
import Foundation
import Testing

@Suite struct CrossValidateMetricsTests {
    var data: URL { CLI.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data") }

    @Test func regressionFoldsReportErrorsAndR2() throws {
        let diabetes = data.appendingPathComponent("diabetes/diabetes.csv").path
        guard FileManager.default.fileExists(atPath: diabetes) else { return }   // ../shared/data absent
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let train = ["--data", diabetes, "--task", "regression", "--hidden", "16", "--epochs", "20", "--global-batch", "32", "--lr", "3e-3"]
        let r = try CLI.run(["cv", "--folds", "3", "--out", dir.path, "--json", "--"] + train, timeout: 120)
        #expect(r.status == 0, "\(r.output)")
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
        #expect(report["task"] as? String == "regression" && report["test_accuracy"] == nil, "\(report)")
        let perFold = report["per_fold"] as? [[String: Any]] ?? []
        #expect(perFold.count == 3, "\(report)")
        for key in ["test_mae", "test_rmse", "test_r2"] {
            let m = report[key] as? [String: Any] ?? [:]
            let folds = m["folds"] as? [Double] ?? []
            let mean = m["mean"] as? Double ?? .nan
            #expect(folds.count == 3 && folds.allSatisfy(\.isFinite) && mean.isFinite, "\(key): \(m)")
            #expect(abs(mean - folds.reduce(0, +) / 3) < 1e-12, "\(key): the mean of the folds")
            #expect(perFold.map { $0[key] as? Double ?? .nan } == folds, "\(key): per_fold and folds agree")
            #expect((m["ci95_lower"] as? Double ?? .infinity) <= mean && mean <= (m["ci95_upper"] as? Double ?? -.infinity))
        }
        #expect((report["test_r2"] as? [String: Any])?["ci95_upper"] as? Double ?? 2 <= 1)
        #expect((report["test_mae"] as? [String: Any])?["ci95_lower"] as? Double ?? -1 >= 0)
        // The folds hold out different rows (442 rows: 148, 147, 147), so their errors differ.
        let maes = (report["test_mae"] as? [String: Any])?["folds"] as? [Double] ?? []
        #expect(Set(maes).count == 3, "every fold evaluated the same rows: \(maes)")
        for i in 1...3 {
            let fold = try CLI.readJSON(dir.appendingPathComponent("fold-\(i).json").path)
            #expect(fold["test_r2"] is Double, "\(fold)")
        }
        let table = try CLI.run(["cv", "--folds", "3", "--"] + train, timeout: 120)
        #expect(table.status == 0 && table.stderr.contains("fold 1/3: MAE ") && table.stderr.contains("R² "), "\(table.output)")
        #expect(table.stdout.contains("test_r2: ") && !table.output.contains("nan"), "\(table.output)")
    }

    /// Iris learns to near-perfect accuracy on some folds, so the raw t-interval of the
    /// accuracy over 3 folds reaches above 1; the report clamps it and says so.
    @Test func intervalsStayInsideTheMetricsRange() throws {
        let iris = data.appendingPathComponent("iris/iris.csv").path
        guard FileManager.default.fileExists(atPath: iris) else { return }
        // Here: 0.9533 ± 0.0759 over 3 folds, raw upper end 1.0292, reported as 1.
        let train = ["--data", iris, "--hidden", "16", "--epochs", "60", "--global-batch", "16", "--lr", "1e-2"]
        let r = try CLI.run(["cv", "--folds", "3", "--json", "--"] + train, timeout: 120)
        #expect(r.status == 0, "\(r.output)")
        let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
        for key in ["test_accuracy", "test_macro_f1"] {
            let m = report[key] as? [String: Any] ?? [:]
            let lower = m["ci95_lower"] as? Double ?? -1, upper = m["ci95_upper"] as? Double ?? 2
            #expect(0 <= lower && lower <= upper && upper <= 1, "\(key): [\(lower), \(upper)]")
            #expect(m["range"] as? String == "[0, 1]")
        }
        let loss = report["test_log_loss"] as? [String: Any] ?? [:]
        #expect((loss["ci95_lower"] as? Double ?? -1) >= 0 && loss["range"] as? String == "[0, ∞)", "\(loss)")
        // The raw interval leaves [0, 1] exactly when the report says it was clamped.
        let accuracy = report["test_accuracy"] as? [String: Any] ?? [:]
        let folds = accuracy["folds"] as? [Double] ?? []
        let mean = folds.reduce(0, +) / Double(folds.count)
        let sd = (folds.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(folds.count - 1)).squareRoot()
        let rawUpper = mean + 4.302652729911275 * sd / Double(folds.count).squareRoot()   // t(0.975, 2 df)
        let clamped = rawUpper > 1 || mean - (rawUpper - mean) < 0
        #expect((accuracy["ci95_clamped"] as? Bool) == clamped, "\(accuracy)")
        let table = try CLI.run(["cv", "--folds", "3", "--"] + train, timeout: 120)
        let line = table.stdout.split(separator: "\n").first { $0.hasPrefix("test_accuracy:") } ?? ""
        #expect(line.contains("clamped to the metric's range [0, 1]") == clamped && (!clamped || line.contains("1.0000]")), "\(table.output)")
    }
}
