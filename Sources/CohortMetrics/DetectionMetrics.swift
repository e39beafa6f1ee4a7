// Object-detection metrics: intersection over union of axis-aligned boxes, greedy
// non-maximum suppression, and average precision per class with all-point
// interpolation (the area under the precision envelope, as PASCAL VOC 2010+),
// averaged over classes (mAP@0.5) and over the IoU thresholds 0.50:0.05:0.95
// (mAP@[.5:.95], COCO's thresholds; COCO itself samples 101 recall points).
import CohortCore

/// An axis-aligned box, corners (x0, y0) top-left and (x1, y1) bottom-right, x1 ≥ x0, y1 ≥ y0.
public struct DetectionBox: Sendable, Equatable {
    public var x0: Double, y0: Double, x1: Double, y1: Double
    public init(x0: Double, y0: Double, x1: Double, y1: Double) { (self.x0, self.y0, self.x1, self.y1) = (x0, y0, x1, y1) }
    public var area: Double { max(0, x1 - x0) * max(0, y1 - y0) }
}

/// A predicted box: its class and confidence.
public struct ScoredDetection: Sendable, Equatable {
    public var box: DetectionBox, label: Int, score: Double
    public init(box: DetectionBox, label: Int, score: Double) { (self.box, self.label, self.score) = (box, label, score) }
}

/// A ground-truth box and its class.
public struct LabeledBox: Sendable, Equatable {
    public var box: DetectionBox, label: Int
    public init(box: DetectionBox, label: Int) { (self.box, self.label) = (box, label) }
}

/// One image's predictions and ground truth.
public struct ImageDetections: Sendable {
    public var predictions: [ScoredDetection], truths: [LabeledBox]
    public init(predictions: [ScoredDetection], truths: [LabeledBox]) { (self.predictions, self.truths) = (predictions, truths) }
}

public enum DetectionMetrics {
    /// Intersection over union; 0 when the union is empty.
    public static func iou(_ a: DetectionBox, _ b: DetectionBox) -> Double {
        let w = min(a.x1, b.x1) - max(a.x0, b.x0), h = min(a.y1, b.y1) - max(a.y0, b.y0)
        let intersection = max(0, w) * max(0, h)
        let union = a.area + b.area - intersection
        return union > 0 ? intersection / union : 0
    }

    /// Greedy non-maximum suppression: indices of the kept boxes, highest score first (ties: lower
    /// index first); a box is dropped when its IoU with a kept box exceeds `threshold`.
    public static func nonMaximumSuppression(_ boxes: [DetectionBox], scores: [Double], threshold: Double) throws -> [Int] {
        guard boxes.count == scores.count else {
            throw CohortError.invalidArgument("non-maximum suppression: \(boxes.count) boxes but \(scores.count) scores")
        }
        let order = boxes.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        var kept: [Int] = []
        for i in order where kept.allSatisfy({ iou(boxes[$0], boxes[i]) <= threshold }) { kept.append(i) }
        return kept
    }

    /// Average precision of class `label` over `images` at IoU `threshold`; nil when the class has no
    /// ground-truth box. Predictions are taken by descending score across images (ties: image, then
    /// position); each is a true positive when it overlaps an unmatched ground-truth box of its class
    /// in its image with IoU ≥ `threshold` (the best such box is matched), else a false positive.
    /// AP is the area under the precision envelope (precision made non-increasing in recall).
    public static func averagePrecision(_ images: [ImageDetections], label: Int, threshold: Double) -> Double? {
        let truthCount = images.reduce(0) { $0 + $1.truths.filter { $0.label == label }.count }
        guard truthCount > 0 else { return nil }
        var ranked: [(image: Int, index: Int, score: Double)] = []
        for (i, image) in images.enumerated() {
            for (j, p) in image.predictions.enumerated() where p.label == label { ranked.append((i, j, p.score)) }
        }
        ranked.sort { $0.score != $1.score ? $0.score > $1.score : ($0.image, $0.index) < ($1.image, $1.index) }
        var matched = images.map { [Bool](repeating: false, count: $0.truths.count) }
        var precision: [Double] = [], recall: [Double] = []
        var tp = 0, fp = 0
        for r in ranked {
            let box = images[r.image].predictions[r.index].box
            var best = -1, bestIoU = threshold
            for (k, t) in images[r.image].truths.enumerated() where t.label == label && !matched[r.image][k] {
                let o = iou(box, t.box)
                if o >= bestIoU && (best < 0 || o > bestIoU) { (best, bestIoU) = (k, o) }
            }
            if best >= 0 { matched[r.image][best] = true; tp += 1 } else { fp += 1 }
            precision.append(Double(tp) / Double(tp + fp))
            recall.append(Double(tp) / Double(truthCount))
        }
        // Precision envelope from the right, then the area over each recall step.
        for i in stride(from: precision.count - 2, through: 0, by: -1) { precision[i] = max(precision[i], precision[i + 1]) }
        var ap = 0.0, previousRecall = 0.0
        for (p, r) in zip(precision, recall) where r > previousRecall {
            ap += (r - previousRecall) * p
            previousRecall = r
        }
        return ap
    }

    /// The mean over classes `0..<classes` that have ground truth of their AP at `threshold` (0 when none has).
    public static func meanAveragePrecision(_ images: [ImageDetections], classes: Int, threshold: Double = 0.5) -> Double {
        let aps = (0..<classes).compactMap { averagePrecision(images, label: $0, threshold: threshold) }
        return aps.isEmpty ? 0 : aps.reduce(0, +) / Double(aps.count)
    }

    /// mAP averaged over the IoU thresholds 0.50, 0.55, …, 0.95.
    public static func meanAveragePrecisionCOCO(_ images: [ImageDetections], classes: Int) -> Double {
        let thresholds = (0..<10).map { 0.5 + 0.05 * Double($0) }
        return thresholds.reduce(0) { $0 + meanAveragePrecision(images, classes: classes, threshold: $1) } / 10
    }
}
