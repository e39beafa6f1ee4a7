// Classification metrics against hand-worked arithmetic and against reference
// values computed independently with numpy (the snippets are in the comments).
import Testing
import CohortMetrics

@Suite struct ClassificationTests {
    /// scikit-learn's classification_report docstring example, worked by hand.
    @Test func handWorkedThreeClassExample() throws {
        var counts = try ClassificationCounts(classes: 3)
        try counts.add(predicted: [0, 0, 2, 2, 1], labels: [0, 1, 2, 2, 2])
        // Rows are true labels, columns predictions:
        //   true 0: predicted 0 once                 -> [1, 0, 0]
        //   true 1: predicted 0 once                 -> [1, 0, 0]
        //   true 2: predicted 2 twice and 1 once     -> [0, 1, 2]
        #expect(counts.confusionMatrix == [[1, 0, 0], [1, 0, 0], [0, 1, 2]])
        #expect(counts.count == 5)
        // accuracy = trace / n = (1 + 0 + 2) / 5 = 0.6
        #expect(try counts.accuracy() == 0.6)
        // class 0: TP 1, predicted 2, actual 1 -> P 1/2, R 1/1, F1 2·1/(1+2) = 2/3
        // class 1: TP 0, predicted 1, actual 1 -> P 0,   R 0,   F1 0
        // class 2: TP 2, predicted 2, actual 3 -> P 1,   R 2/3, F1 2·2/(3+2) = 4/5
        let m = try counts.perClassMetrics()
        #expect(m[0] == ClassMetrics(precision: 0.5, recall: 1, f1: 2.0 / 3, support: 1))
        #expect(m[1] == ClassMetrics(precision: 0, recall: 0, f1: 0, support: 1))
        #expect(m[2] == ClassMetrics(precision: 1, recall: 2.0 / 3, f1: 0.8, support: 3))
        // macro: P (1/2 + 0 + 1)/3 = 0.5, R (1 + 0 + 2/3)/3 = 5/9, F1 (2/3 + 0 + 4/5)/3 = 22/45
        let macro = try counts.averaged(.macro)
        #expect(close(macro.precision, 0.5) && close(macro.recall, 5.0 / 9) && close(macro.f1, 22.0 / 45))
        // weighted by support 1, 1, 3: P (1/2 + 0 + 3)/5 = 0.7, R (1 + 0 + 2)/5 = 0.6, F1 (2/3 + 0 + 12/5)/5 = 46/75
        let weighted = try counts.averaged(.weighted)
        #expect(close(weighted.precision, 0.7) && close(weighted.recall, 0.6) && close(weighted.f1, 46.0 / 75))
        // micro pools TP 3, FP 2, FN 2: P = R = F1 = 3/5 = accuracy
        let micro = try counts.averaged(.micro)
        #expect(micro == ClassMetrics(precision: 0.6, recall: 0.6, f1: 0.6, support: 5))
    }

    /// Twelve logit rows over four classes (no ties inside a row). Reference, numpy 2.4:
    ///
    ///     z = np.array(LOGITS, dtype=np.float32).astype(np.float64); y = np.array(LABELS)
    ///     pred = z.argmax(1); cm = np.zeros((4, 4), int); np.add.at(cm, (y, pred), 1)
    ///     tp = np.diag(cm); pc = cm.sum(0); tc = cm.sum(1)
    ///     P = tp / pc (0 where pc == 0); R = tp / tc (0 where tc == 0); F1 = 2*tp / (tc + pc)
    ///     macro = [x.mean() for x in (P, R, F1)]; weighted = [np.average(x, weights=tc) for x in (P, R, F1)]
    ///     rank = (z > z[np.arange(12), y][:, None]).sum(1); topk = (rank < k).mean()
    ///     m = z.max(1, keepdims=True); logp = z - (m + np.log(np.exp(z - m).sum(1, keepdims=True)))
    ///     logloss = -logp[np.arange(12), y].mean()
    @Test func logitsMatchNumpyReference() throws {
        let labels = [0, 1, 2, 3, 0, 1, 2, 3, 0, 2, 2, 1]
        let logits: [Float] = [
             2.0,  0.5, -1.0,  0.1,
             0.3,  1.2,  0.8, -0.5,
            -0.2,  0.4,  1.5,  0.9,
             0.7, -0.3,  0.2,  0.6,
             1.1,  1.4, -0.6,  0.0,
            -1.0,  2.2,  0.3,  0.5,
             0.9,  0.1,  0.8, -0.4,
             0.2,  0.0,  1.3,  1.0,
             3.0, -2.0,  0.5,  0.4,
             0.6,  0.7,  2.5, -0.1,
            -0.5,  1.9,  1.7,  0.3,
             0.4,  0.9,  1.0,  1.6,
        ]
        var counts = try ClassificationCounts(classes: 4, topK: [1, 2, 3, 4])
        try counts.add(scores: logits, labels: labels, kind: .logits)
        // numpy: cm.tolist()
        #expect(counts.confusionMatrix == [[2, 1, 0, 0], [0, 2, 0, 1], [1, 1, 2, 0], [1, 0, 1, 0]])
        let m = try counts.perClassMetrics()
        #expect(close(m.map(\.precision), [0.5, 0.5, 0.6666666666666666, 0.0]))
        #expect(close(m.map(\.recall), [0.6666666666666666, 0.6666666666666666, 0.5, 0.0]))
        #expect(close(m.map(\.f1), [0.5714285714285714, 0.5714285714285714, 0.5714285714285714, 0.0]))
        #expect(m.map(\.support) == [3, 3, 4, 2])
        let macro = try counts.averaged(.macro), weighted = try counts.averaged(.weighted)
        #expect(close([macro.precision, macro.recall, macro.f1], [0.41666666666666663, 0.4583333333333333, 0.42857142857142855]))
        #expect(close([weighted.precision, weighted.recall, weighted.f1], [0.47222222222222215, 0.5, 0.4761904761904761]))
        #expect(try counts.accuracy() == 0.5)
        #expect(try counts.averaged(.micro).f1 == 0.5)
        // numpy: rank = [0 0 0 1 1 0 1 1 0 0 1 2] -> top1 6/12, top2 11/12, top3 and top4 12/12
        #expect(try counts.topKAccuracy(1) == 0.5)
        #expect(try counts.topKAccuracy(2) == 11.0 / 12)
        #expect(try counts.topKAccuracy(3) == 1 && counts.topKAccuracy(4) == 1)
        #expect(close(try counts.logLoss(), 0.8015207773163615))
    }

    /// Probabilities, including p(true) = 0 and p(true) = 1, which are clipped. Reference, numpy:
    ///
    ///     p = np.array(PROBS, dtype=np.float32).astype(np.float64).reshape(6, 3); y = np.array(LABELS)
    ///     -np.log(np.clip(p[np.arange(6), y], 1e-15, 1 - 1e-15)).mean()   # 6.217232814176388
    @Test func probabilitiesMatchNumpyReference() throws {
        let labels = [0, 1, 2, 2, 1, 0]
        let probabilities: [Float] = [
            0.7, 0.2, 0.1,
            0.1, 0.6, 0.3,
            0.2, 0.2, 0.6,
            0.5, 0.5, 0.0,
            0.25, 0.25, 0.5,
            1.0, 0.0, 0.0,
        ]
        var counts = try ClassificationCounts(classes: 3)
        try counts.add(scores: probabilities, labels: labels, kind: .probabilities)
        #expect(close(try counts.logLoss(), 6.217232814176388))
        // Row 3 has p(true) = 0: its loss is clipped to -log(1e-15) = 34.538776394910684 instead of +inf.
        var zero = try ClassificationCounts(classes: 3)
        try zero.add(scores: [0.5, 0.5, 0.0], labels: [2], kind: .probabilities)
        #expect(close(try zero.logLoss(), 34.538776394910684))
        // Row 3 (true class 2) ties classes 0 and 1 at the top; the argmax takes the lower index, class 0.
        // Row 2 (true class 2) is predicted 2, so true class 2's row is [1, 0, 1].
        #expect(counts.confusionMatrix[2] == [1, 0, 1])
    }

    /// Hard predictions and score rows can be mixed: top-k and log-loss use only the scored samples.
    @Test func scoredCountIsTheDenominatorOfTopKAndLogLoss() throws {
        var counts = try ClassificationCounts(classes: 2, topK: [1])
        try counts.add(predicted: [0, 0, 0], labels: [1, 1, 1])
        // one scored sample, softmax([0, 0]) = [1/2, 1/2]: loss log 2, argmax 0 = true class -> top-1 hit
        try counts.add(scores: [0, 0], labels: [0], kind: .logits)
        #expect(counts.count == 4 && counts.scoredCount == 1)
        #expect(try counts.accuracy() == 0.25)
        #expect(try counts.topKAccuracy(1) == 1)
        #expect(close(try counts.logLoss(), 0.6931471805599453))
    }
}
