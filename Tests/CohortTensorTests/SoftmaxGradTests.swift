// Finite-difference and value checks of softmax, logSoftmax (last, middle and
// first axis), the fused crossEntropy (label smoothing, ignoreIndex,
// reductions) and nllLoss, against naive Double references.
import Testing
@testable import CohortTensor
import CohortTestSupport

#if canImport(Glibc)
import Glibc
#endif

@Suite struct SoftmaxGradTests {
    @Test(arguments: [false, true]) func softmaxFamilyGradients(log: Bool) throws {
        let name = log ? "logSoftmax" : "softmax"
        let f: (Tensor, Int) throws -> Tensor = { log ? try $0.logSoftmax(axis: $1) : try $0.softmax(axis: $1) }
        let x2 = Fixtures.uniform([3, 5], -2, 2, seed: 1)
        try expectGradients([x2], "\(name) last axis") { try f($0[0], -1) }
        try expectGradients([x2], "\(name) axis 0") { try f($0[0], 0) }
        let x3 = Fixtures.uniform([2, 3, 4], -2, 2, seed: 2)
        try expectGradients([x3], "\(name) middle axis") { try f($0[0], 1) }
        try expectGradients([x3], "\(name) last axis rank 3") { try f($0[0], 2) }
        // 20 classes: one full 16-lane block plus a tail in the kernel.
        let wide = Fixtures.uniform([2, 20], -3, 3, seed: 3)
        try expectGradients([wide], "\(name) 20 classes") { try f($0[0], -1) }
        let t = Fixtures.transposedLeaf([4, 3], -2, 2, seed: 4)
        try expectGradients([t], "\(name) strided leaf") { try f($0[0], -1) }
        try expectGradients([x3], "\(name) of permuted view") { try f($0[0].permute([2, 0, 1]), 1) }
    }

    /// Naive Double cross-entropy with a smoothed target, averaged over counted rows.
    func naiveCrossEntropy(_ logits: [Float], rows: Int, classes n: Int, targets: [Int], smoothing: Double,
                           ignoreIndex: Int, mean: Bool) -> Double {
        var total = 0.0, counted = 0
        for r in 0..<rows where targets[r] != ignoreIndex {
            let row = logits[(r * n)..<((r + 1) * n)].map(Double.init)
            let m = row.max()!
            let lse = m + Glibc.log(row.map { Glibc.exp($0 - m) }.reduce(0, +))
            for j in 0..<n {
                let q = (j == targets[r] ? 1 - smoothing : 0) + smoothing / Double(n)
                total += q * (lse - row[j])
            }
            counted += 1
        }
        return mean ? total / Double(Swift.max(counted, 1)) : total
    }

    @Test func crossEntropyGradientsAndValues() throws {
        let x = Fixtures.uniform([4, 5], -2, 2, seed: 10)
        let targets = [1, 4, 0, 4]
        let cases: [(String, Float, Int, Reduction)] = [
            ("plain", 0, -100, .mean), ("label smoothing 0.1", 0.1, -100, .mean),
            ("ignoreIndex row", 0, 4, .mean), ("smoothing + ignoreIndex -1", 0.2, -1, .mean),
            ("sum", 0.1, -100, .sum),
        ]
        for (name, eps, ignore, reduction) in cases {
            let tg = ignore == -1 ? [1, -1, 0, 3] : targets
            try expectGradients([x], "crossEntropy \(name)") {
                try Tensor.crossEntropy($0[0], targets: tg, labelSmoothing: eps, ignoreIndex: ignore, reduction: reduction)
            }
            let loss = try Tensor.crossEntropy(x, targets: tg, labelSmoothing: eps, ignoreIndex: ignore, reduction: reduction)
            let expected = naiveCrossEntropy(x.scalars, rows: 4, classes: 5, targets: tg, smoothing: Double(eps),
                                             ignoreIndex: ignore, mean: reduction == .mean)
            assertClose(try loss.item(), Float(expected), atol: 1e-5, rtol: 1e-5, "crossEntropy \(name) value")
        }
        let wide = Fixtures.uniform([3, 20], -3, 3, seed: 11)
        try expectGradients([wide], "crossEntropy 20 classes") { try Tensor.crossEntropy($0[0], targets: [19, 0, 16], labelSmoothing: 0.1) }
        let t = Fixtures.transposedLeaf([4, 5], seed: 12)
        try expectGradients([t], "crossEntropy strided logits") { try Tensor.crossEntropy($0[0], targets: targets) }
    }

    @Test func crossEntropyMatchesLogSoftmaxPlusNll() throws {
        let x = Fixtures.uniform([3, 6], -3, 3, seed: 13)
        let fused = try Tensor.crossEntropy(x, targets: [5, 0, 2])
        let composed = try Tensor.nllLoss(x.logSoftmax(), targets: [5, 0, 2])
        assertClose(try fused.item(), try composed.item(), atol: 1e-6, rtol: 1e-6)
    }

    @Test func crossEntropyIsStableForLargeLogits() throws {
        let x = try Tensor([1000, 0, -1000, 50, 60, 70], shape: [2, 3], requiresGrad: true)
        let loss = try Tensor.crossEntropy(x, targets: [0, 1])
        // Row 0: lse = 1000, loss 0; row 1: lse = 70 + log(1 + e^-10 + e^-20), loss ≈ 10.0000454.
        let expected = (0 + (70 + Glibc.log(1 + Glibc.exp(-10.0) + Glibc.exp(-20.0)) - 60)) / 2
        assertClose(try loss.item(), Float(expected), atol: 1e-5, rtol: 1e-6)
        try loss.backward()
        #expect(x.grad!.scalars.allSatisfy { $0.isFinite })
    }

    @Test func nllLoss() throws {
        let lp = Fixtures.uniform([4, 3], -3, -0.1, seed: 20)
        for reduction in [Reduction.mean, .sum, .none] {
            try expectGradients([lp], "nllLoss \(reduction)") { try Tensor.nllLoss($0[0], targets: [2, 0, 1, 2], reduction: reduction) }
            try expectGradients([lp], "nllLoss \(reduction) ignoreIndex") {
                try Tensor.nllLoss($0[0], targets: [2, 7, 1, 7], ignoreIndex: 7, reduction: reduction)
            }
        }
        let logits = Fixtures.uniform([4, 3], seed: 21)
        try expectGradients([logits], "nllLoss of logSoftmax") { try Tensor.nllLoss($0[0].logSoftmax(), targets: [0, 1, 2, 0]) }
        let v = try Tensor.nllLoss(Tensor([-1, -2, -3, -4], shape: [2, 2]), targets: [1, 0], reduction: .none)
        #expect(v.scalars == [2, 3])
        let m = try Tensor.nllLoss(Tensor([-1, -2, -3, -4], shape: [2, 2]), targets: [1, -100])
        #expect(try m.item() == 2)
    }
}
