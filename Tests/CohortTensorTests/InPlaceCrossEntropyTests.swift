// `Tensor.crossEntropy(consuming:)`, the cross-entropy that reuses the logits' buffer
// (a GPT's loss): bitwise the loss and logits gradient of `crossEntropy` (label
// smoothing, ignored rows, a tail past the 16-lane blocks), the buffer really reused,
// finite-difference gradients, and a second backward refused by name.
import CohortCore
import Testing
@testable import CohortTensor
import CohortTestSupport

@Suite struct InPlaceCrossEntropyTests {
    @Test(arguments: [Float(0), 0.1]) func equalsCrossEntropyBitwise(smoothing: Float) throws {
        let (rows, classes) = (6, 37)
        var g = RandomGenerator(seed: 1)
        let targets = (0..<rows).map { $0 == 2 ? -100 : g.nextInt(below: classes) }
        let w = Fixtures.uniform([5, classes], seed: 2), x = Fixtures.uniform([rows, 5], seed: 3, requiresGrad: false)
        // Logits from a linear map (an op that does not keep its output), as a GPT's LM head.
        let plain = try Tensor.crossEntropy(Tensor.matmul(x, w), targets: targets, labelSmoothing: smoothing)
        try plain.backward()
        let expected = w.grad!.scalars
        w.grad = nil
        let logits = try Tensor.matmul(x, w)
        let storage = logits.storage
        let fused = try Tensor.crossEntropy(consuming: logits, targets: targets, labelSmoothing: smoothing)
        #expect(try fused.item() == plain.item())
        // The logits' buffer now holds the probabilities: each counted row sums to 1.
        let p = logits.scalars
        for r in 0..<rows { #expect(abs(p[(r * classes)..<((r + 1) * classes)].reduce(0, +) - 1) < 1e-5) }
        try fused.backward()
        #expect(w.grad!.scalars == expected)
        #expect(logits.storage === storage)
        try expectGradients([Fixtures.uniform([rows, classes], -3, 3, seed: 4)], "consuming, smoothing \(smoothing)") {
            try Tensor.crossEntropy(consuming: $0[0].contiguous() * 1, targets: targets, labelSmoothing: smoothing)
        }
    }

    @Test func secondBackwardIsRefused() throws {
        let x = Fixtures.uniform([2, 3], seed: 5)
        let loss = try Tensor.crossEntropy(consuming: x * 2, targets: [0, 2])
        try loss.backward(retainGraph: true)
        #expect(throws: CohortError.self) { try loss.backward() }
        let bad = try Tensor.crossEntropy(consuming: x * 2, targets: [0, 2])
        _ = try Autograd.gradients(of: bad, withRespectTo: [x], retainGraph: true)
        let error = #expect(throws: CohortError.self) { try Autograd.gradients(of: bad, withRespectTo: [x]) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("crossEntropy(consuming:)"))
        #expect(throws: CohortError.self) { try Tensor.crossEntropy(consuming: Tensor.zeros([2, 3]), targets: [0, 3]) }
        #expect(throws: CohortError.self) { try Tensor.crossEntropy(consuming: Tensor.zeros([0, 3]), targets: []) }
        #expect(throws: CohortError.self) { try Tensor.crossEntropy(Tensor.zeros([2, 0]), targets: [0, 0]) }
        // An empty batch: no rows counted, so the mean is NaN (as PyTorch's) and the sum 0; no crash.
        #expect(try Tensor.crossEntropy(Tensor.zeros([0, 3]), targets: []).item().isNaN)
        #expect(try Tensor.crossEntropy(Tensor.zeros([0, 3]), targets: [], reduction: .sum).item() == 0)
    }
}
