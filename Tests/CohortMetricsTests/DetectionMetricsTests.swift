// IoU, non-maximum suppression and (mean) average precision against hand-computed cases.
import CohortMetrics
import Testing

@Suite struct DetectionMetricsTests {
    func box(_ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double) -> DetectionBox { DetectionBox(x0: x0, y0: y0, x1: x1, y1: y1) }

    @Test func intersectionOverUnionByHand() {
        #expect(abs(DetectionMetrics.iou(box(0, 0, 2, 2), box(1, 1, 3, 3)) - 1.0 / 7) < 1e-12)   // 1 / (4 + 4 − 1)
        #expect(DetectionMetrics.iou(box(0, 0, 2, 2), box(0, 0, 2, 2)) == 1)
        #expect(DetectionMetrics.iou(box(0, 0, 2, 2), box(2, 0, 4, 2)) == 0)                     // touching edges
        #expect(DetectionMetrics.iou(box(0, 0, 2, 2), box(5, 5, 6, 6)) == 0)
        #expect(abs(DetectionMetrics.iou(box(0, 0, 10, 10), box(0, 0, 10, 7.2)) - 0.72) < 1e-12)
    }

    @Test func suppressionKeepsTheBestOfEachOverlap() throws {
        // A and B overlap with IoU 81/119 ≈ 0.68; C is apart.
        let boxes = [box(1, 1, 11, 11), box(0, 0, 10, 10), box(20, 20, 30, 30)], scores = [0.8, 0.9, 0.7]
        #expect(try DetectionMetrics.nonMaximumSuppression(boxes, scores: scores, threshold: 0.5) == [1, 2])
        #expect(try DetectionMetrics.nonMaximumSuppression(boxes, scores: scores, threshold: 0.7) == [1, 0, 2])
        #expect(throws: (any Error).self) { try DetectionMetrics.nonMaximumSuppression(boxes, scores: [1], threshold: 0.5) }
    }

    @Test func averagePrecisionByHand() {
        // Two truths; ranked TP (0.9), FP (0.8), TP (0.7): precision 1, ½, ⅔ at recall ½, ½, 1.
        // Envelope: 1 up to recall ½, ⅔ up to 1 → AP = ½·1 + ½·⅔ = 5/6.
        let image = ImageDetections(
            predictions: [ScoredDetection(box: box(0, 0, 10, 10), label: 0, score: 0.9),
                          ScoredDetection(box: box(50, 50, 60, 60), label: 0, score: 0.8),
                          ScoredDetection(box: box(21, 20, 30, 30), label: 0, score: 0.7)],
            truths: [LabeledBox(box: box(0, 0, 10, 10), label: 0), LabeledBox(box: box(20, 20, 30, 30), label: 0)])
        #expect(abs(DetectionMetrics.averagePrecision([image], label: 0, threshold: 0.5)! - 5.0 / 6) < 1e-12)
        #expect(DetectionMetrics.averagePrecision([image], label: 1, threshold: 0.5) == nil)
        // A duplicate of a matched box is a false positive: TP, FP → AP 1·½ (one of two truths found).
        let duplicate = ImageDetections(
            predictions: [ScoredDetection(box: box(0, 0, 10, 10), label: 0, score: 0.9), ScoredDetection(box: box(0, 0, 10, 9), label: 0, score: 0.8)],
            truths: [LabeledBox(box: box(0, 0, 10, 10), label: 0), LabeledBox(box: box(40, 40, 50, 50), label: 0)])
        #expect(abs(DetectionMetrics.averagePrecision([duplicate], label: 0, threshold: 0.5)! - 0.5) < 1e-12)
    }

    @Test func meansOverClassesAndThresholds() {
        // Class 0 found exactly (AP 1); class 1: a false positive ranked above the true one (AP ½);
        // class 2 has no truth and is left out of the mean.
        let images = [
            ImageDetections(predictions: [ScoredDetection(box: box(0, 0, 4, 4), label: 0, score: 0.9),
                                          ScoredDetection(box: box(30, 30, 34, 34), label: 1, score: 0.95),
                                          ScoredDetection(box: box(10, 10, 14, 14), label: 1, score: 0.6),
                                          ScoredDetection(box: box(60, 60, 64, 64), label: 2, score: 0.5)],
                            truths: [LabeledBox(box: box(0, 0, 4, 4), label: 0), LabeledBox(box: box(10, 10, 14, 14), label: 1)]),
        ]
        #expect(abs(DetectionMetrics.meanAveragePrecision(images, classes: 3) - 0.75) < 1e-12)
        // One box at IoU 0.72 with its truth: a hit at the thresholds 0.50…0.70 (5 of 10), a miss above.
        let loose = [ImageDetections(predictions: [ScoredDetection(box: box(0, 0, 10, 7.2), label: 0, score: 1)],
                                     truths: [LabeledBox(box: box(0, 0, 10, 10), label: 0)])]
        #expect(abs(DetectionMetrics.meanAveragePrecisionCOCO(loose, classes: 1) - 0.5) < 1e-12)
        #expect(DetectionMetrics.meanAveragePrecision(loose, classes: 1, threshold: 0.75) == 0)
    }
}
