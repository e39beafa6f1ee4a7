// What the detector's output grid means (CenterNet, "Objects as Points"): targets
// encoded from boxes, the training loss, and boxes decoded from the output.
//
// Per cell of the `G × G` grid (stride 8): C heatmap logits, then the object centre's
// offset within the cell (x, y, in cells) and the box's width and height (in cells).
// Targets: a Gaussian bump per object on its class's heatmap (peak 1 at the centre cell,
// radius from the box size as CenterNet computes it), the offset and size at the centre
// cell, and a mask marking those cells.
// Loss: the penalty-reduced focal loss on the heatmaps (α 2, β 4) plus L1 on the offsets
// and 0.1 × L1 on the sizes at the centre cells, each divided by the number of objects.
// Decoding: heatmap peaks (a cell at least as high as its 3×3 neighbours in its class),
// the best `maxDetections`, their boxes, and per-class non-maximum suppression.
import CohortCore
import CohortData
import CohortMetrics
import CohortNN
import CohortTensor
import Foundation

/// The detector's output grid: target encoding, loss and decoding.
public struct CenterNetHead: Sendable {
    public let side: Int, classes: Int
    public var grid: Int { side / DetectorModels.stride }
    /// Target channels per cell: the class heatmaps, offset x/y, size w/h, mask.
    public var targetChannels: Int { classes + 5 }
    /// Detections kept per image, best first.
    public var maxDetections = 50
    /// Peaks below this heatmap value are not reported.
    public var scoreThreshold: Float = 0.01
    /// Per-class non-maximum suppression drops boxes overlapping a better one by more than this IoU.
    public var nmsThreshold = 0.5
    /// The weight of the size loss (CenterNet's 0.1).
    public var sizeWeight: Float = 0.1

    public init(side: Int, classes: Int) { (self.side, self.classes) = (side, classes) }

    /// The targets of one scene, `[targetChannels, G, G]` flattened.
    public func encode(_ objects: [SceneObject]) -> [Float] {
        let g = grid, cells = g * g, s = Float(DetectorModels.stride)
        var t = [Float](repeating: 0, count: targetChannels * cells)
        for o in objects {
            let cx = Float(o.x0 + o.x1) / 2 / s, cy = Float(o.y0 + o.y1) / 2 / s
            let w = Float(o.x1 - o.x0) / s, h = Float(o.y1 - o.y0) / s
            let ix = min(max(Int(cx), 0), g - 1), iy = min(max(Int(cy), 0), g - 1)
            let radius = max(0, Int(Self.gaussianRadius(width: w, height: h)))
            let sigma = Float(2 * radius + 1) / 6
            for y in max(0, iy - radius)...min(g - 1, iy + radius) {
                for x in max(0, ix - radius)...min(g - 1, ix + radius) {
                    let dx = Float(x - ix), dy = Float(y - iy)
                    let i = o.label * cells + y * g + x
                    t[i] = max(t[i], exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)))
                }
            }
            let cell = iy * g + ix
            for (k, v) in [cx - Float(ix), cy - Float(iy), w, h, 1].enumerated() { t[(classes + k) * cells + cell] = v }
        }
        return t
    }

    /// CenterNet's Gaussian radius (in cells) for a `width × height` box: the largest corner shift that keeps
    /// IoU ≥ 0.7 with the true box in the worst of its three cases.
    static func gaussianRadius(width w: Float, height h: Float, minOverlap m: Float = 0.7) -> Float {
        let b1 = h + w, c1 = w * h * (1 - m) / (1 + m)
        let r1 = (b1 + (b1 * b1 - 4 * c1).squareRoot()) / 2
        let b2 = 2 * (h + w), c2 = (1 - m) * w * h
        let r2 = (b2 + (b2 * b2 - 16 * c2).squareRoot()) / 2
        let a3 = 4 * m, b3 = -2 * m * (h + w), c3 = (m - 1) * w * h
        let r3 = (b3 + (b3 * b3 - 4 * a3 * c3).squareRoot()) / 2
        return min(r1, r2, r3)
    }

    /// The training loss of `output` `[B, C + 4, G, G]` against `target` `[B, C + 5, G, G]` (`encode`d).
    /// - Throws: `CohortError.shapeMismatch` naming both shapes when they do not fit this head.
    public func loss(_ output: Tensor, _ target: Tensor) throws -> Tensor {
        let b = output.shape.first ?? 0, g = grid
        guard output.shape == [b, classes + 4, g, g], target.shape == [b, targetChannels, g, g] else {
            throw CohortError.shapeMismatch(op: "detection loss", "output \(describeShape(output.shape)) and target \(describeShape(target.shape)) for \(classes) classes on a \(g)×\(g) grid")
        }
        let y = try target.contiguous().scalars, cells = g * g, perImage = targetChannels * cells
        // Constants of the focal loss: where the heatmap is 1 (centres) and the background's weight (1 − y)⁴.
        var positive = [Float](repeating: 0, count: b * classes * cells), background = positive
        var mask = [Float](repeating: 0, count: b * cells)
        for n in 0..<b {
            for i in 0..<(classes * cells) {
                let v = y[n * perImage + i]
                if v >= 1 { positive[n * classes * cells + i] = 1 } else { background[n * classes * cells + i] = pow(1 - v, 4) }
            }
            for i in 0..<cells { mask[n * cells + i] = y[n * perImage + (classes + 4) * cells + i] }
        }
        let objects = max(1, positive.reduce(0, +))
        let logits = try output.slice(axis: 1, 0, classes)
        let p = logits.sigmoid()
        let logP = try -((-logits).softplus()), logNotP = try -logits.softplus()
        let pos = try (((1 - p).square() * logP) * Tensor(positive, shape: [b, classes, g, g])).sum()
        let neg = try ((p.square() * logNotP) * Tensor(background, shape: [b, classes, g, g])).sum()
        let focal = try -(pos + neg) / objects
        let maskTensor = try Tensor(mask, shape: [b, 1, g, g])
        let boxTarget = try target.slice(axis: 1, classes, classes + 4)
        let error = try (output.slice(axis: 1, classes, classes + 4) - boxTarget).abs() * maskTensor
        let offset = try error.slice(axis: 1, 0, 2).sum(), size = try error.slice(axis: 1, 2, 4).sum()
        return try focal + (offset + size * sizeWeight) / objects
    }

    /// The detections in one image's output (`[C + 4, G, G]` flattened): peaks of the sigmoid heatmaps, the
    /// best `maxDetections` above `scoreThreshold`, boxes in pixels, per-class non-maximum suppression.
    public func decode(_ out: ArraySlice<Float>) throws -> [ScoredDetection] {
        let g = grid, cells = g * g, s = Double(DetectorModels.stride), base = out.startIndex
        func heat(_ c: Int, _ y: Int, _ x: Int) -> Float { out[base + c * cells + y * g + x] }
        var peaks: [(score: Float, c: Int, y: Int, x: Int)] = []
        for c in 0..<classes {
            for y in 0..<g {
                for x in 0..<g {
                    let v = heat(c, y, x)
                    var isPeak = true
                    for dy in -1...1 where isPeak { for dx in -1...1 where (dx != 0 || dy != 0) && (0..<g).contains(y + dy) && (0..<g).contains(x + dx) {
                        if heat(c, y + dy, x + dx) > v { isPeak = false; break }
                    } }
                    let score = 1 / (1 + exp(-v))
                    if isPeak && score >= scoreThreshold { peaks.append((score, c, y, x)) }
                }
            }
        }
        peaks.sort { $0.score != $1.score ? $0.score > $1.score : ($0.c, $0.y, $0.x) < ($1.c, $1.y, $1.x) }
        let best = peaks.prefix(maxDetections).compactMap { p -> ScoredDetection? in
            let value = { (k: Int) in Double(out[base + (self.classes + k) * cells + p.y * g + p.x]) }
            let cx = (Double(p.x) + value(0)) * s, cy = (Double(p.y) + value(1)) * s
            let w = max(0, value(2)) * s, h = max(0, value(3)) * s
            guard cx.isFinite, cy.isFinite, w.isFinite, h.isFinite else { return nil }   // a diverged network's output is no box
            return ScoredDetection(box: DetectionBox(x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2), label: p.c, score: Double(p.score))
        }
        var kept: [ScoredDetection] = []
        for c in 0..<classes {
            let mine = best.filter { $0.label == c }
            kept += try DetectionMetrics.nonMaximumSuppression(mine.map(\.box), scores: mine.map(\.score), threshold: nmsThreshold).map { mine[$0] }
        }
        return kept.sorted { $0.score > $1.score }
    }
}
