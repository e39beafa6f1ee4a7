// Sufficient statistics for classification metrics: a confusion matrix, top-k
// hit counts and a summed log-loss. Every field is a plain sum over samples, so
// counts from different ranks combine by element-wise addition (`merge`, or an
// MPI sum-allreduce of `flattened`) and every metric computed from the combined
// counts equals the metric on the whole data set — never an average of averages.
import CohortCore
import Foundation

/// What the values of a score row passed to `ClassificationCounts.add(scores:labels:kind:)` are.
public enum ScoreKind: Sendable, Equatable {
    /// Unnormalised scores; the log-loss applies a softmax (computed in `Double`).
    case logits
    /// Probabilities: each in [0, 1] and each row summing to 1 within `ClassificationCounts.rowSumTolerance`.
    case probabilities
}

/// Summable counts from which accuracy, top-k accuracy, precision, recall, F1 and log-loss follow.
///
/// Classes are the integers `0..<classes`. `confusion[t * classes + p]` counts samples with true
/// label `t` predicted as `p`. Samples added through `add(scores:labels:kind:)` also count towards
/// `topKHits` and `logLossSum`; `scoredCount` is their number (the denominator of top-k accuracy and
/// log-loss), which is less than `count` when some samples were added as hard predictions.
public struct ClassificationCounts: Sendable, Equatable {
    /// Probabilities must lie within this of 1 when summed over a row (Float inputs carry ~1e-7 rounding).
    public static let rowSumTolerance = 1e-3
    /// Probabilities are clipped to [`logLossEpsilon`, 1 − `logLossEpsilon`] before the logarithm.
    public static let logLossEpsilon = 1e-15
    /// The largest count `flattened` carries exactly as a `Double` (2⁵³).
    public static let maxExactCount: Double = 9_007_199_254_740_992

    /// The number of classes; labels and predictions are in `0..<classes`.
    public let classes: Int
    /// The k values whose top-k hits are counted, in the order given at creation.
    public let topK: [Int]
    /// The `classes × classes` confusion matrix, row-major: row = true label, column = predicted label.
    public private(set) var confusion: [Int64]
    /// For each entry of `topK`, the scored samples whose true class ranked within the top k.
    public private(set) var topKHits: [Int64]
    /// The number of samples added with scores (the denominator of top-k accuracy and log-loss).
    public private(set) var scoredCount: Int64
    /// The sum over scored samples of −log p(true class), with p clipped as `logLossEpsilon` says.
    public private(set) var logLossSum: Double

    /// Empty counts for `classes` classes (at least 1), tracking top-k hits for each k in `topK`
    /// (each at least 1, no repeats; k ≥ `classes` is allowed and always hits).
    public init(classes: Int, topK: [Int] = []) throws {
        guard classes >= 1 else { throw CohortError.invalidArgument("ClassificationCounts: classes must be at least 1, got \(classes)") }
        if let bad = topK.first(where: { $0 < 1 }) {
            throw CohortError.invalidArgument("ClassificationCounts: every top-k value must be at least 1, got \(bad)")
        }
        guard Set(topK).count == topK.count else {
            throw CohortError.invalidArgument("ClassificationCounts: top-k values \(topK) contain a repeat")
        }
        self.classes = classes
        self.topK = topK
        confusion = Array(repeating: 0, count: classes * classes)
        topKHits = Array(repeating: 0, count: topK.count)
        scoredCount = 0
        logLossSum = 0
    }

    /// The total number of samples (the sum of the confusion matrix).
    public var count: Int64 { confusion.reduce(0, +) }

    /// Counts hard predictions: `predicted[i]` is the predicted class of the sample whose true class
    /// is `labels[i]`. Empty arrays add nothing (a rank with an empty shard still joins the allreduce).
    /// Validates everything before changing anything.
    /// - Throws: `shapeMismatch` if the lengths differ; `invalidArgument` for a label or prediction outside `0..<classes`.
    public mutating func add(predicted: [Int], labels: [Int]) throws {
        let op = "ClassificationCounts.add(predicted:labels:)"
        guard predicted.count == labels.count else {
            throw CohortError.shapeMismatch(op: op, "\(predicted.count) predictions vs \(labels.count) labels")
        }
        try checkRange(labels, "label", op)
        try checkRange(predicted, "prediction", op)
        for (p, t) in zip(predicted, labels) { confusion[t * classes + p] += 1 }
    }

    /// Counts score rows: `scores` is row-major `[labels.count, classes]`. The predicted class is the
    /// row's argmax (ties go to the lower class index, as `numpy.argmax`); the true class ranks within
    /// the top k when fewer than k classes outrank it, where a class outranks it with a higher score,
    /// or an equal score and a lower index (so top-1 hits always equal the confusion diagonal; note
    /// scikit-learn's `top_k_accuracy_score` breaks ties the other way, towards the higher index).
    /// Log-loss adds −log p(true) with p from a softmax of logits (computed in `Double`) or the given
    /// probability, clipped to [1e-15, 1 − 1e-15] (scikit-learn's default before 1.2; later versions
    /// clip at the dtype's machine epsilon). Probabilities are not renormalised. Empty input adds nothing.
    /// - Throws: `shapeMismatch` if `scores.count != labels.count × classes`; `invalidArgument` for a label
    ///   out of range, a non-finite score, a probability outside [0, 1], or a probability row whose sum is
    ///   off 1 by more than `rowSumTolerance`.
    public mutating func add(scores: [Float], labels: [Int], kind: ScoreKind) throws {
        let op = "ClassificationCounts.add(scores:labels:kind:)"
        guard scores.count == labels.count * classes else {
            throw CohortError.shapeMismatch(op: op, "\(scores.count) scores for \(labels.count) labels × \(classes) classes (expected \(labels.count * classes))")
        }
        try checkRange(labels, "label", op)
        for row in 0..<labels.count {
            let values = scores[(row * classes)..<((row + 1) * classes)]
            if let j = values.firstIndex(where: { !$0.isFinite }) {
                throw CohortError.invalidArgument("\(op): score [\(row), \(j - row * classes)] is \(scores[j]); scores must be finite")
            }
            guard kind == .probabilities else { continue }
            if let j = values.firstIndex(where: { $0 < 0 || $0 > 1 }) {
                throw CohortError.invalidArgument("\(op): probability [\(row), \(j - row * classes)] is \(scores[j]), outside [0, 1]")
            }
            let sum = values.reduce(0.0) { $0 + Double($1) }
            guard abs(sum - 1) <= Self.rowSumTolerance else {
                throw CohortError.invalidArgument("\(op): probability row \(row) sums to \(sum), not 1 (tolerance \(Self.rowSumTolerance)); pass kind: .logits for unnormalised scores")
            }
        }
        let maxLoss = -log(Self.logLossEpsilon), minLoss = -log(1 - Self.logLossEpsilon)
        for (row, label) in labels.enumerated() {
            let values = scores[(row * classes)..<((row + 1) * classes)]
            let base = row * classes
            var argmax = 0, outranking = 0
            let trueScore = scores[base + label]
            for j in 0..<classes {
                let s = scores[base + j]
                if s > scores[base + argmax] { argmax = j }
                if s > trueScore || (s == trueScore && j < label) { outranking += 1 }
            }
            confusion[label * classes + argmax] += 1
            for (i, k) in topK.enumerated() where outranking < k { topKHits[i] += 1 }
            let nll: Double
            switch kind {
            case .probabilities:
                nll = -log(Double(trueScore))
            case .logits:
                let m = Double(values.max()!)
                let logSumExp = m + log(values.reduce(0.0) { $0 + exp(Double($1) - m) })
                nll = logSumExp - Double(trueScore)
            }
            // Clipping p to [eps, 1 - eps] is clamping -log p to [-log(1 - eps), -log(eps)].
            logLossSum += min(max(nll, minLoss), maxLoss)
            scoredCount += 1
        }
    }

    /// Adds `other`'s counts to these (the same as having added its samples here).
    /// - Throws: `invalidArgument` if the class count or top-k values differ.
    public mutating func merge(_ other: ClassificationCounts) throws {
        guard other.classes == classes, other.topK == topK else {
            throw CohortError.invalidArgument("ClassificationCounts.merge: cannot merge \(other.classes) classes with top-k \(other.topK) into \(classes) classes with top-k \(topK)")
        }
        for i in confusion.indices { confusion[i] += other.confusion[i] }
        for i in topKHits.indices { topKHits[i] += other.topKHits[i] }
        scoredCount += other.scoredCount
        logLossSum += other.logLossSum
    }

    /// The counts as one vector for a sum-allreduce: the confusion matrix (row-major, `classes²`
    /// values), then `topKHits` (in `topK` order), then `scoredCount`, then `logLossSum` —
    /// `classes² + topK.count + 2` values. Counts are exact as `Double` up to 2⁵³.
    ///
    /// Round trip across ranks: every rank builds counts with the same `classes` and `topK`, sums
    /// `flattened` element-wise over ranks (e.g. `communicator.allreduce(counts.flattened, op: .sum)`),
    /// and rebuilds with `init(flattened:classes:topK:)`; the result equals merging every rank's counts
    /// (up to summation order in `logLossSum`). Never use `.average`: the metrics divide sums themselves.
    public var flattened: [Double] {
        confusion.map(Double.init) + topKHits.map(Double.init) + [Double(scoredCount), logLossSum]
    }

    /// Rebuilds counts from `flattened` (typically summed over ranks), for the same `classes` and `topK`.
    /// - Throws: `shapeMismatch` for the wrong length; `invalidArgument` for a count that is negative,
    ///   fractional, non-finite or above 2⁵³, hits above `scoredCount`, scored samples above the total,
    ///   or a negative or non-finite log-loss sum.
    public init(flattened: [Double], classes: Int, topK: [Int] = []) throws {
        try self.init(classes: classes, topK: topK)
        let expected = classes * classes + topK.count + 2
        guard flattened.count == expected else {
            throw CohortError.shapeMismatch(op: "ClassificationCounts(flattened:)", "\(flattened.count) values, expected \(classes)² + \(topK.count) + 2 = \(expected)")
        }
        func wholeCount(_ i: Int) throws -> Int64 {
            let v = flattened[i]
            guard v.isFinite, v >= 0, v == v.rounded(), v <= Self.maxExactCount else {
                throw CohortError.invalidArgument("ClassificationCounts(flattened:): value \(i) is \(v), not a count (a whole number in [0, 2^53])")
            }
            return Int64(v)
        }
        confusion = try (0..<(classes * classes)).map(wholeCount)
        topKHits = try topK.indices.map { try wholeCount(classes * classes + $0) }
        scoredCount = try wholeCount(expected - 2)
        logLossSum = flattened[expected - 1]
        guard logLossSum.isFinite, logLossSum >= 0 else {
            throw CohortError.invalidArgument("ClassificationCounts(flattened:): log-loss sum is \(logLossSum), must be finite and non-negative")
        }
        guard scoredCount <= count, topKHits.allSatisfy({ $0 <= scoredCount }) else {
            throw CohortError.invalidArgument("ClassificationCounts(flattened:): inconsistent counts: \(scoredCount) scored of \(count) samples, top-k hits \(topKHits)")
        }
    }

    private func checkRange(_ values: [Int], _ what: String, _ op: String) throws {
        if let i = values.firstIndex(where: { !(0..<classes).contains($0) }) {
            throw CohortError.invalidArgument("\(op): \(what) \(values[i]) at index \(i) is outside 0..<\(classes)")
        }
    }
}
