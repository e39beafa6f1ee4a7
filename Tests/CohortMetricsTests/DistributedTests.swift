// Metrics from counts accumulated on separate shards ("ranks") and combined —
// by merge and by an element-wise sum of `flattened`, as an MPI sum-allreduce
// does — equal the metrics of the whole data set, while the naive mean of the
// per-shard metrics does not.
import Testing
import CohortMetrics

/// A deterministic linear congruential generator of floats in [-1, 1).
struct TestRandom {
    var state: UInt64
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(state >> 40) / Float(1 << 23) - 1
    }
}

/// One shard of a 4-class problem: labels and logits (noise plus `skill` on the true class).
struct Shard {
    var labels: [Int]
    var logits: [Float]

    init(labels: [Int], skill: Float, seed: UInt64) {
        var random = TestRandom(state: seed)
        self.labels = labels
        logits = labels.flatMap { label in (0..<4).map { 1.5 * random.next() + ($0 == label ? skill : 0) } }
    }
}

@Suite struct DistributedTests {
    /// Three shards with very different class mixes, sizes and model quality: 40 samples of only class 0
    /// (easy); 48 of all four classes (hard); 10 of mostly class 3 (easy).
    let shards = [
        Shard(labels: Array(repeating: 0, count: 40), skill: 3.0, seed: 1),
        Shard(labels: (0..<48).map { $0 % 4 }, skill: 0.5, seed: 2),
        Shard(labels: [3, 3, 3, 2, 3, 3, 1, 3, 3, 3], skill: 1.5, seed: 3),
    ]

    func counts(_ labels: [Int], _ logits: [Float]) throws -> ClassificationCounts {
        var c = try ClassificationCounts(classes: 4, topK: [1, 2, 3])
        try c.add(scores: logits, labels: labels, kind: .logits)
        return c
    }

    @Test func classificationMetricsAreShardInvariant() throws {
        let whole = try counts(shards.flatMap(\.labels), shards.flatMap(\.logits))
        let perShard = try shards.map { try counts($0.labels, $0.logits) }

        var merged = try ClassificationCounts(classes: 4, topK: [1, 2, 3])
        for c in perShard { try merged.merge(c) }
        // What an MPI allreduce(op: .sum) of `flattened` gives every rank:
        let summed = perShard.map(\.flattened).reduce(Array(repeating: 0.0, count: 4 * 4 + 3 + 2)) { zip($0, $1).map(+) }
        let reduced = try ClassificationCounts(flattened: summed, classes: 4, topK: [1, 2, 3])

        for combined in [merged, reduced] {
            // The integer counts are identical, so every count-based metric is bit-identical.
            #expect(combined.confusion == whole.confusion)
            #expect(combined.topKHits == whole.topKHits && combined.scoredCount == whole.scoredCount)
            #expect(try combined.accuracy() == whole.accuracy())
            #expect(try combined.perClassMetrics() == whole.perClassMetrics())
            for averaging in Averaging.allCases {
                #expect(try combined.averaged(averaging) == whole.averaged(averaging))
            }
            for k in [1, 2, 3] { #expect(try combined.topKAccuracy(k) == whole.topKAccuracy(k)) }
            // The log-loss sum differs only by summation order.
            #expect(close(try combined.logLoss(), try whole.logLoss()))
        }

        // The average of per-shard metrics is a different (wrong) number: an averages-of-averages
        // bug would fail the checks above. Here: accuracy 0.819 naive vs 0.735, macro F1 0.821 vs 0.642,
        // log-loss 0.673 vs 0.794 (the easy single-class shard has macro F1 1.0 on its own).
        let naiveAccuracy = try perShard.map { try $0.accuracy() }.reduce(0, +) / 3
        let naiveMacroF1 = try perShard.map { try $0.averaged(.macro).f1 }.reduce(0, +) / 3
        let naiveLogLoss = try perShard.map { try $0.logLoss() }.reduce(0, +) / 3
        let accuracy = try whole.accuracy(), macroF1 = try whole.averaged(.macro).f1, logLoss = try whole.logLoss()
        #expect(abs(naiveAccuracy - accuracy) > 0.02, "naive \(naiveAccuracy) vs \(accuracy)")
        #expect(abs(naiveMacroF1 - macroF1) > 0.02, "naive \(naiveMacroF1) vs \(macroF1)")
        #expect(abs(naiveLogLoss - logLoss) > 0.02, "naive \(naiveLogLoss) vs \(logLoss)")
    }

    @Test func regressionMetricsAreShardInvariant() throws {
        // Shard A has constant targets (its own R² is 0 by the force_finite rule); B and C differ in scale and size.
        let parts: [(predictions: [Double], targets: [Double])] = [
            ([4.5, 5.5, 5.25, 4.0], [5, 5, 5, 5]),
            ([0.1, 1.9, 3.2, 3.8, 5.1, 6.3, 6.8, 8.4, 9.2, 9.7], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
            ([104, 93, 109], [100, 98, 103]),
        ]
        var whole = RegressionCounts()
        try whole.add(predictions: parts.flatMap(\.predictions), targets: parts.flatMap(\.targets))
        var perShard: [RegressionCounts] = []
        for part in parts {
            var c = RegressionCounts()
            try c.add(predictions: part.predictions, targets: part.targets)
            perShard.append(c)
        }
        var merged = RegressionCounts()
        for c in perShard { merged.merge(c) }
        let summed = perShard.map(\.flattened).reduce(Array(repeating: 0.0, count: 6)) { zip($0, $1).map(+) }
        let reduced = try RegressionCounts(flattened: summed)

        for combined in [merged, reduced] {
            #expect(combined.count == whole.count)
            #expect(close(combined.flattened, whole.flattened))
            #expect(close(try combined.meanAbsoluteError(), try whole.meanAbsoluteError()))
            #expect(close(try combined.meanSquaredError(), try whole.meanSquaredError()))
            #expect(close(try combined.r2(), try whole.r2()))
        }
        #expect(try perShard[0].r2() == 0)
        let naiveR2 = try perShard.map { try $0.r2() }.reduce(0, +) / 3
        let naiveMAE = try perShard.map { try $0.meanAbsoluteError() }.reduce(0, +) / 3
        #expect(abs(naiveR2 - (try whole.r2())) > 0.1)
        #expect(abs(naiveMAE - (try whole.meanAbsoluteError())) > 0.05)
    }
}
