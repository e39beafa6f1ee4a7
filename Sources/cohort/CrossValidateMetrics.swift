// The held-out metrics `cohort cv` summarizes: which a task's fold summaries report
// (classification: accuracy, macro F1, log-loss; regression: MAE, RMSE, R²), each with
// its valid range, and the t-based 95 % interval over the folds clamped to that range
// (a mean accuracy of 0.98 ± 0.06 over 3 folds gives [0.92, 1], never 1.04).
import CohortCore
import CohortStats

/// One metric of a fold summary and the values it can take.
struct CVMetric: Sendable {
    /// The summary key, e.g. `test_accuracy`.
    let key: String
    /// How the per-fold line shows it, e.g. `accuracy`.
    let label: String
    /// The metric's valid range: [0, 1] for accuracy and F1, [0, ∞) for errors and log-loss, (−∞, 1] for R².
    let range: ClosedRange<Double>

    static let classification = [CVMetric(key: "test_accuracy", label: "accuracy", range: 0...1),
                                 CVMetric(key: "test_macro_f1", label: "macro F1", range: 0...1),
                                 CVMetric(key: "test_log_loss", label: "log-loss", range: 0...Double.infinity)]
    static let regression = [CVMetric(key: "test_mae", label: "MAE", range: 0...Double.infinity),
                             CVMetric(key: "test_rmse", label: "RMSE", range: 0...Double.infinity),
                             CVMetric(key: "test_r2", label: "R²", range: -Double.infinity...1)]

    /// The task the fold summaries come from and its metrics: regression when every fold
    /// reports `test_r2`, classification when every fold reports `test_accuracy`.
    /// - Throws: `CohortError.invalidArgument` naming the fold whose summary has neither.
    static func metrics(of summaries: [[String: Any]]) throws -> (task: String, metrics: [CVMetric]) {
        if summaries.allSatisfy({ $0["test_r2"] is Double }) { return ("regression", regression) }
        if summaries.allSatisfy({ $0["test_accuracy"] is Double }) { return ("classification", classification) }
        let fold = (summaries.firstIndex { !($0["test_r2"] is Double) && !($0["test_accuracy"] is Double) } ?? 0) + 1
        throw CohortError.invalidArgument("cohort cv: fold \(fold)'s summary reports neither test_accuracy nor test_r2 "
                                          + "(cohort cv supports CSV classification and --task regression)")
    }

    /// The range as text, e.g. `[0, 1]`, `[0, ∞)`, `(−∞, 1]`.
    var rangeText: String {
        func bound(_ x: Double) -> String { x.isInfinite ? (x < 0 ? "(−∞" : "∞)") : (x == x.rounded() ? String(Int(x)) : String(x)) }
        return (range.lowerBound.isInfinite ? bound(range.lowerBound) : "[" + bound(range.lowerBound)) + ", "
            + (range.upperBound.isInfinite ? bound(range.upperBound) : bound(range.upperBound) + "]")
    }

    /// The t-based interval of the mean over `values` (one per fold), clamped to `range`;
    /// `clamped` says whether either end moved.
    func interval(_ values: [Double], level: Double = 0.95) throws -> (ci: ConfidenceInterval, clamped: Bool) {
        let raw = try tConfidenceInterval(values, level: level), ci = raw.clamped(to: range)
        return (ci, ci != raw)
    }
}
