// Metrics derived from ClassificationCounts, following scikit-learn's
// definitions with zero_division=0: a ratio whose denominator is zero is 0.
import CohortCore

/// Precision, recall, F1 and support of one class, or an average over classes.
public struct ClassMetrics: Sendable, Equatable {
    /// TP / (TP + FP); 0 when the class was never predicted.
    public var precision: Double
    /// TP / (TP + FN); 0 when the class never occurs in the labels.
    public var recall: Double
    /// 2·TP / (2·TP + FP + FN), the harmonic mean of precision and recall; 0 when TP + FP + FN = 0.
    public var f1: Double
    /// The number of samples whose true label is the class (for an average: of all classes averaged).
    public var support: Int64

    /// Metrics from their parts.
    public init(precision: Double, recall: Double, f1: Double, support: Int64) {
        self.precision = precision; self.recall = recall; self.f1 = f1; self.support = support
    }
}

/// How per-class precision, recall and F1 are combined, as scikit-learn's `average=` argument.
public enum Averaging: String, Sendable, CaseIterable {
    /// The unweighted mean over the classes present in the labels or the predictions.
    case macro
    /// The metric of the pooled TP, FP and FN of all classes (equal to accuracy for single-label data).
    case micro
    /// The mean over classes weighted by support (the number of true samples of each class).
    case weighted
}

extension ClassificationCounts {
    /// The confusion matrix as rows: `[true label][predicted label]`.
    public var confusionMatrix: [[Int64]] {
        (0..<classes).map { Array(confusion[($0 * classes)..<(($0 + 1) * classes)]) }
    }

    /// The classes that occur in the labels or the predictions, ascending — the classes scikit-learn
    /// averages over (and reports) when called without `labels=`.
    public var presentClasses: [Int] {
        (0..<classes).filter { c in (0..<classes).contains { confusion[c * classes + $0] + confusion[$0 * classes + c] > 0 } }
    }

    /// The fraction of samples whose predicted class is the true class.
    /// - Throws: `invalidArgument` when there are no samples.
    public func accuracy() throws -> Double {
        let n = try requireSamples("accuracy")
        return Double((0..<classes).reduce(Int64(0)) { $0 + confusion[$1 * classes + $1] }) / Double(n)
    }

    /// The fraction of scored samples whose true class ranked within the top `k` (see `add(scores:labels:kind:)`).
    /// - Throws: `invalidArgument` if `k` is not one of `topK`, or no samples were added with scores.
    public func topKAccuracy(_ k: Int) throws -> Double {
        guard let i = topK.firstIndex(of: k) else {
            throw CohortError.invalidArgument("topKAccuracy: k = \(k) is not tracked; these counts track top-k for \(topK)")
        }
        guard scoredCount > 0 else { throw CohortError.invalidArgument("topKAccuracy: no samples were added with scores") }
        return Double(topKHits[i]) / Double(scoredCount)
    }

    /// The mean negative log-likelihood of the true class over scored samples (natural log).
    /// - Throws: `invalidArgument` when no samples were added with scores.
    public func logLoss() throws -> Double {
        guard scoredCount > 0 else { throw CohortError.invalidArgument("logLoss: no samples were added with scores") }
        return logLossSum / Double(scoredCount)
    }

    /// Precision, recall, F1 and support of every class `0..<classes` (zeros for a class absent from
    /// both labels and predictions).
    /// - Throws: `invalidArgument` when there are no samples.
    public func perClassMetrics() throws -> [ClassMetrics] {
        _ = try requireSamples("perClassMetrics")
        return (0..<classes).map { c in
            let s = sums(c)
            return ClassMetrics(precision: ratio(s.tp, s.predicted), recall: ratio(s.tp, s.actual),
                                f1: ratio(2 * s.tp, s.actual + s.predicted), support: s.actual)
        }
    }

    /// Precision, recall and F1 averaged as `averaging` says; `support` is the total sample count.
    /// - Throws: `invalidArgument` when there are no samples.
    public func averaged(_ averaging: Averaging) throws -> ClassMetrics {
        let n = try requireSamples("averaged(.\(averaging))")
        let present = presentClasses
        switch averaging {
        case .micro:
            var tp: Int64 = 0, predicted: Int64 = 0, actual: Int64 = 0
            for c in present { let s = sums(c); tp += s.tp; predicted += s.predicted; actual += s.actual }
            return ClassMetrics(precision: ratio(tp, predicted), recall: ratio(tp, actual),
                                f1: ratio(2 * tp, actual + predicted), support: n)
        case .macro, .weighted:
            let all = try perClassMetrics()
            let weights = present.map { averaging == .macro ? 1.0 : Double(all[$0].support) }
            let total = weights.reduce(0, +)
            func mean(_ value: (ClassMetrics) -> Double) -> Double {
                total == 0 ? 0 : zip(present, weights).reduce(0.0) { $0 + value(all[$1.0]) * $1.1 } / total
            }
            return ClassMetrics(precision: mean(\.precision), recall: mean(\.recall), f1: mean(\.f1), support: n)
        }
    }

    /// True positives, predicted count (column sum) and actual count (row sum, the support) of class `c`.
    private func sums(_ c: Int) -> (tp: Int64, predicted: Int64, actual: Int64) {
        var predicted: Int64 = 0, actual: Int64 = 0
        for j in 0..<classes { predicted += confusion[j * classes + c]; actual += confusion[c * classes + j] }
        return (confusion[c * classes + c], predicted, actual)
    }

    private func ratio(_ a: Int64, _ b: Int64) -> Double { b == 0 ? 0 : Double(a) / Double(b) }

    private func requireSamples(_ metric: String) throws -> Int64 {
        let n = count
        guard n > 0 else { throw CohortError.invalidArgument("\(metric): no samples have been added") }
        return n
    }
}
