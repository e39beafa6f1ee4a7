// Zero division, absent classes, ties, k ≥ classes, empty input, and bad input
// rejected with an error that names the problem (and leaves the counts alone).
import Testing
import CohortCore
import CohortMetrics

@Suite struct EdgeCaseTests {
    /// Five classes: class 2 is never predicted, class 3 never occurs in the labels, class 4 in neither.
    @Test func zeroDivisionAndAbsentClasses() throws {
        var counts = try ClassificationCounts(classes: 5)
        try counts.add(predicted: [0, 3, 1, 1, 1], labels: [0, 0, 1, 1, 2])
        // class 0: TP 1, predicted 1, actual 2 -> P 1,   R 1/2, F1 2/3
        // class 1: TP 2, predicted 3, actual 2 -> P 2/3, R 1,   F1 4/5
        // class 2: TP 0, predicted 0, actual 1 -> P 0 (0/0, zero_division), R 0, F1 0
        // class 3: TP 0, predicted 1, actual 0 -> P 0, R 0 (0/0, zero_division), F1 0
        // class 4: nothing at all -> zeros, and left out of the macro average
        let m = try counts.perClassMetrics()
        #expect(m[2] == ClassMetrics(precision: 0, recall: 0, f1: 0, support: 1))
        #expect(m[3] == ClassMetrics(precision: 0, recall: 0, f1: 0, support: 0))
        #expect(m[4] == ClassMetrics(precision: 0, recall: 0, f1: 0, support: 0))
        #expect(counts.presentClasses == [0, 1, 2, 3])
        // macro over classes 0...3: P (1 + 2/3)/4 = 5/12, R (1/2 + 1)/4 = 3/8, F1 (2/3 + 4/5)/4 = 11/30
        let macro = try counts.averaged(.macro)
        #expect(close(macro.precision, 5.0 / 12) && close(macro.recall, 0.375) && close(macro.f1, 11.0 / 30))
        // weighted by support 2, 2, 1, 0: P (2 + 4/3)/5 = 2/3, R (1 + 2)/5 = 3/5, F1 (4/3 + 8/5)/5 = 44/75
        let weighted = try counts.averaged(.weighted)
        #expect(close(weighted.precision, 2.0 / 3) && close(weighted.recall, 0.6) && close(weighted.f1, 44.0 / 75))
        #expect(try counts.averaged(.micro) == ClassMetrics(precision: 0.6, recall: 0.6, f1: 0.6, support: 5))
    }

    @Test func topKWithKAtLeastClassesIsOne() throws {
        var counts = try ClassificationCounts(classes: 3, topK: [3, 10])
        try counts.add(scores: [5, 1, -2, 0, 9, 1, 3, 2, 1], labels: [2, 0, 1], kind: .logits)
        #expect(try counts.accuracy() == 0)
        #expect(try counts.topKAccuracy(3) == 1 && counts.topKAccuracy(10) == 1)
    }

    /// Equal scores rank the lower class index first, so top-1 agrees with the argmax.
    @Test func tiesFavourTheLowerClassIndex() throws {
        var counts = try ClassificationCounts(classes: 3, topK: [1, 2])
        // every row is [1, 1, 1]: argmax 0; class c is outranked by the c classes below it
        try counts.add(scores: Array(repeating: 1, count: 9), labels: [0, 1, 2], kind: .logits)
        #expect(counts.confusionMatrix == [[1, 0, 0], [1, 0, 0], [1, 0, 0]])
        #expect(try counts.topKAccuracy(1) == 1.0 / 3)  // only label 0
        #expect(try counts.topKAccuracy(2) == 2.0 / 3)  // labels 0 and 1
        #expect(close(try counts.logLoss(), 1.0986122886681098))  // log 3
    }

    @Test func emptyInputAddsNothingAndMetricsNeedSamples() throws {
        var counts = try ClassificationCounts(classes: 2, topK: [1])
        try counts.add(predicted: [], labels: [])
        try counts.add(scores: [], labels: [], kind: .probabilities)
        #expect(counts == (try ClassificationCounts(classes: 2, topK: [1])))
        expectError(.invalidArgument, "no samples") { _ = try counts.accuracy() }
        expectError(.invalidArgument, "no samples") { _ = try counts.perClassMetrics() }
        expectError(.invalidArgument, "no samples") { _ = try counts.averaged(.macro) }
        expectError(.invalidArgument, "no samples were added with scores") { _ = try counts.logLoss() }
        expectError(.invalidArgument, "no samples were added with scores") { _ = try counts.topKAccuracy(1) }
    }

    @Test func badInputIsRejectedWithoutChangingTheCounts() throws {
        var counts = try ClassificationCounts(classes: 3, topK: [2])
        try counts.add(predicted: [0, 1], labels: [0, 2])
        let before = counts
        expectError(.shapeMismatch, "3 predictions vs 2 labels") { try counts.add(predicted: [0, 1, 2], labels: [0, 1]) }
        expectError(.invalidArgument, "label 3 at index 2 is outside 0..<3") { try counts.add(predicted: [0, 1, 2], labels: [0, 1, 3]) }
        expectError(.invalidArgument, "label -1 at index 0") { try counts.add(predicted: [0], labels: [-1]) }
        expectError(.invalidArgument, "prediction 7 at index 1") { try counts.add(predicted: [0, 7], labels: [0, 1]) }
        expectError(.shapeMismatch, "5 scores for 2 labels × 3 classes (expected 6)") {
            try counts.add(scores: [0, 0, 0, 0, 0], labels: [0, 1], kind: .logits)
        }
        expectError(.invalidArgument, "score [1, 2] is nan") {
            try counts.add(scores: [0, 0, 0, 0, 0, .nan], labels: [0, 1], kind: .logits)
        }
        expectError(.invalidArgument, "probability [0, 1] is 1.5, outside [0, 1]") {
            try counts.add(scores: [0, 1.5, -0.5], labels: [0], kind: .probabilities)
        }
        expectError(.invalidArgument, "probability row 1 sums to") {
            try counts.add(scores: [0.2, 0.3, 0.5, 0.2, 0.2, 0.2], labels: [0, 1], kind: .probabilities)
        }
        expectError(.invalidArgument, "k = 1 is not tracked") { _ = try counts.topKAccuracy(1) }
        #expect(counts == before)

        expectError(.invalidArgument, "classes must be at least 1, got 0") { _ = try ClassificationCounts(classes: 0) }
        expectError(.invalidArgument, "at least 1, got 0") { _ = try ClassificationCounts(classes: 3, topK: [0]) }
        expectError(.invalidArgument, "contain a repeat") { _ = try ClassificationCounts(classes: 3, topK: [2, 2]) }
        expectError(.invalidArgument, "cannot merge 4 classes") { try counts.merge(try ClassificationCounts(classes: 4, topK: [2])) }
        expectError(.invalidArgument, "top-k [1]") { try counts.merge(try ClassificationCounts(classes: 3, topK: [1])) }
    }

    @Test func badFlattenedVectorsAreRejected() throws {
        let good = try ClassificationCounts(classes: 2, topK: [1]).flattened  // 4 + 1 + 2 values
        #expect(good.count == 7)
        expectError(.shapeMismatch, "6 values, expected 2² + 1 + 2 = 7") {
            _ = try ClassificationCounts(flattened: Array(good.dropLast()), classes: 2, topK: [1])
        }
        var v = good; v[1] = 2.5
        expectError(.invalidArgument, "value 1 is 2.5, not a count") { _ = try ClassificationCounts(flattened: v, classes: 2, topK: [1]) }
        v = good; v[0] = -1
        expectError(.invalidArgument, "value 0 is -1.0") { _ = try ClassificationCounts(flattened: v, classes: 2, topK: [1]) }
        v = good; v[4] = 1  // a top-1 hit with no scored sample
        expectError(.invalidArgument, "inconsistent counts") { _ = try ClassificationCounts(flattened: v, classes: 2, topK: [1]) }
        v = good; v[6] = .infinity
        expectError(.invalidArgument, "log-loss sum is inf") { _ = try ClassificationCounts(flattened: v, classes: 2, topK: [1]) }
    }
}
