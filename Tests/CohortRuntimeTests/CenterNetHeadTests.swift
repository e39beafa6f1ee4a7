// The detector's output grid (CenterNetHead): CenterNet's Gaussian radius and target
// encoding by hand, the loss's value by hand and its gradient against finite differences,
// and decoding an ideal output back to the true boxes (mAP 1).
import CohortCore
import CohortData
import CohortMetrics
import CohortTensor
import CohortTestSupport
import Foundation
import Testing
@testable import CohortRuntime

@Suite struct CenterNetHeadTests {
    @Test func gaussianRadiusIsCenterNetsSmallestCase() {
        // w = h = 4 cells, IoU 0.7: the third case, (−11.2 + √179.2) / 2 = 1.0934.
        #expect(abs(CenterNetHead.gaussianRadius(width: 4, height: 4) - 1.0934) < 1e-3)
        #expect(CenterNetHead.gaussianRadius(width: 1, height: 1) < CenterNetHead.gaussianRadius(width: 3, height: 5))
    }

    @Test func encodingPutsThePeakOffsetAndSizeAtTheCentreCell() {
        let head = CenterNetHead(side: 96, classes: 3)   // a 12 × 12 grid
        let t = head.encode([SceneObject(x0: 8, y0: 16, x1: 40, y1: 56, label: 2)])   // centre (24, 36) px = (3, 4.5) cells, 4 × 5 cells
        let cells = 144, cell = 4 * 12 + 3
        #expect(t.count == 8 * cells)
        #expect(t[2 * cells + cell] == 1 && t[0..<(2 * cells)].allSatisfy { $0 == 0 })
        #expect(t[3 * cells + cell] == 0 && t[4 * cells + cell] == 0.5 && t[5 * cells + cell] == 4 && t[6 * cells + cell] == 5)
        #expect(t[(7 * cells)...].reduce(0, +) == 1 && t[7 * cells + cell] == 1)
        // Radius 1 (CenterNet's radius of a 4 × 5-cell box is 1.2), σ = 3/6: a neighbour gets e^(−1/(2·0.25)) = e^−2.
        let neighbour = t[2 * cells + cell + 1]
        #expect(abs(neighbour - exp(-2)) < 1e-6, "\(neighbour)")
        #expect(t[2 * cells + cell + 2] == 0)
        // A 2 × 3-cell box has radius 0: only its centre cell is marked.
        let small = head.encode([SceneObject(x0: 8, y0: 16, x1: 24, y1: 40, label: 0)])
        #expect(small[0..<cells].filter { $0 > 0 } == [1])
    }

    @Test func lossByHandAndAgainstFiniteDifferences() throws {
        // One class, one cell, the object filling it: logit 0 (p ½) → focal ¼·ln 2; box outputs 0 against
        // offsets ½, ½ and sizes 1, 1 → L1 1 + 0.1 · 2.
        let one = CenterNetHead(side: 8, classes: 1)
        let target = try Tensor(one.encode([SceneObject(x0: 0, y0: 0, x1: 8, y1: 8, label: 0)]), shape: [1, 6, 1, 1])
        let loss = try one.loss(Tensor.zeros([1, 5, 1, 1]), target).item()
        #expect(abs(Double(loss) - (0.25 * log(2) + 1.2)) < 1e-5)

        let head = CenterNetHead(side: 24, classes: 3)   // 3 × 3 grid, two objects in one image, none in the other
        let objects = [[SceneObject(x0: 1, y0: 2, x1: 9, y1: 14, label: 1), SceneObject(x0: 12, y0: 10, x1: 23, y1: 22, label: 0)], []]
        let targets = try Tensor(objects.flatMap { head.encode($0) }, shape: [2, 8, 3, 3])
        var g = RandomGenerator(seed: 5)
        let values = Tensor.rand([2, 7, 3, 3], low: -3, high: -1, generator: &g).scalars   // box outputs far from their targets: no L1 kink
        let output = try Tensor(values, shape: [2, 7, 3, 3], requiresGrad: true)
        let r = try gradcheck([output]) { try head.loss($0[0], targets) }
        #expect(r.passed, "\(r)")
        #expect(throws: (any Error).self) { try head.loss(output, try Tensor.zeros([2, 7, 3, 3])) }
    }

    @Test func anIdealOutputDecodesToTheTrueBoxes() throws {
        let head = CenterNetHead(side: 48, classes: 4)
        let truth = [SceneObject(x0: 2, y0: 3, x1: 15, y1: 20, label: 3), SceneObject(x0: 26, y0: 25, x1: 45, y1: 46, label: 1)]
        let t = head.encode(truth), cells = 36
        // Logits: +8 at the centres, −8 elsewhere; box channels as encoded.
        var out = (0..<(4 * cells)).map { t[$0] >= 1 ? Float(8) : -8 }
        out += t[(4 * cells)..<(8 * cells)]
        let found = try head.decode(out[...])
        #expect(found.count == 2 && found.allSatisfy { $0.score > 0.99 })
        for o in truth {
            let box = DetectionBox(x0: Double(o.x0), y0: Double(o.y0), x1: Double(o.x1), y1: Double(o.y1))
            #expect(found.contains { $0.label == o.label && DetectionMetrics.iou($0.box, box) > 0.999 }, "\(o) not in \(found)")
        }
        let image = ImageDetections(predictions: found, truths: truth.map {
            LabeledBox(box: DetectionBox(x0: Double($0.x0), y0: Double($0.y0), x1: Double($0.x1), y1: Double($0.y1)), label: $0.label)
        })
        #expect(DetectionMetrics.meanAveragePrecisionCOCO([image], classes: 4) == 1)
    }
}
