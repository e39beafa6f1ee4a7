// Pooling: max (stride, overlap, padding, ties, NaN), average (padding counted)
// and adaptive average (uneven windows) against direct-loop references, with
// finite-difference gradients and the tie rule (first maximum gets the gradient).
import CohortCore
@testable import CohortTensor
import CohortTestSupport
import Testing

/// Direct reference for max/avg pooling over `[…, H, W]`; avg divides by the full window.
func referencePool(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), max: Bool) -> Tensor {
    let H = x.shape[x.rank - 2], W = x.shape[x.rank - 1], planes = x.count / (H * W)
    let OH = (H + 2 * padding.0 - kernel.0) / stride.0 + 1, OW = (W + 2 * padding.1 - kernel.1) / stride.1 + 1
    let xs = x.scalars
    var out: [Float] = []
    for p in 0..<planes {
        for oh in 0..<OH {
            for ow in 0..<OW {
                var m = -Float.infinity, s: Float = 0
                for i in 0..<kernel.0 {
                    for j in 0..<kernel.1 {
                        let h = oh * stride.0 - padding.0 + i, w = ow * stride.1 - padding.1 + j
                        guard h >= 0, h < H, w >= 0, w < W else { continue }
                        let v = xs[(p * H + h) * W + w]
                        m = Swift.max(m, v); s += v
                    }
                }
                out.append(max ? m : s / Float(kernel.0 * kernel.1))
            }
        }
    }
    return try! Tensor(out, shape: Array(x.shape.dropLast(2)) + [OH, OW])
}

@Suite struct ConvPoolGradTests {
    static let configs: [(kernel: IntOrPair, stride: IntOrPair?, padding: IntOrPair, h: Int, w: Int)] = [
        (2, nil, 0, 6, 6),
        (2, nil, 0, 7, 9),            // odd sizes: the last row/column is dropped
        (3, 2, 1, 7, 6),              // overlapping windows with padding
        ([2, 3], [1, 2], [1, 1], 5, 7),
        (3, 1, 0, 5, 5),
    ]

    @Test func maxPoolMatchesReferenceAndGradients() throws {
        for (i, c) in Self.configs.enumerated() {
            let x = Fixtures.distinct([2, 3, c.h, c.w], spacing: 0.05, seed: UInt64(100 + i))
            let y = try x.maxPool2d(kernel: c.kernel, stride: c.stride, padding: c.padding)
            let s = c.stride ?? c.kernel
            let r = referencePool(x, kernel: (c.kernel.first, c.kernel.second), stride: (s.first, s.second),
                                  padding: (c.padding.first, c.padding.second), max: true)
            assertClose(y, r, atol: 0, rtol: 0, "config \(i)")
            try expectGradients([x], eps: 1e-3, "config \(i)") { try $0[0].maxPool2d(kernel: c.kernel, stride: c.stride, padding: c.padding) }
        }
    }

    @Test func maxPoolOnThreeDimensionalInput() throws {
        let x = Fixtures.distinct([3, 4, 4], spacing: 0.05, seed: 110)
        try expectGradients([x], eps: 1e-3) { try $0[0].maxPool2d(kernel: 2) }
    }

    @Test func maxPoolTiesRouteToTheFirstMaximum() throws {
        // Every window of the 2×2 pooling holds equal maxima; the gradient goes to the first in row-major order.
        let x = try Tensor([1, 1, 0, 2,
                            1, 0, 2, 2,
                            3, 3, 5, 4,
                            3, 3, 4, 5] as [Float], shape: [1, 1, 4, 4], requiresGrad: true)
        let y = try x.maxPool2d(kernel: 2)
        assertClose(y, [1, 2, 3, 5])
        try y.backward(Tensor.ones(y.shape))
        assertClose(x.grad!, [1, 0, 0, 1,
                              0, 0, 0, 0,
                              1, 0, 1, 0,
                              0, 0, 0, 0])
        // The general path (3×3, stride 1) follows the same rule.
        let z = try Tensor([2, 2, 2, 2, 2, 2, 2, 2, 2] as [Float], shape: [1, 1, 3, 3], requiresGrad: true)
        try z.maxPool2d(kernel: 3, stride: 1).sum().backward()
        assertClose(z.grad!, [1, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func maxPoolPaddingNeverWins() throws {
        // All-negative input: padded positions (-inf) must not become the maximum.
        let x = Fixtures.distinct([1, 1, 4, 4], spacing: 0.1, start: -3, seed: 120)
        let y = try x.maxPool2d(kernel: 3, stride: 2, padding: 1)
        #expect(y.scalars.allSatisfy { $0 < 0 && $0.isFinite })
        try expectGradients([x], eps: 1e-3) { try $0[0].maxPool2d(kernel: 3, stride: 2, padding: 1) }
    }

    @Test func maxPoolPropagatesNaN() throws {
        var v = [Float](repeating: 1, count: 16)
        v[5] = .nan
        let x = try Tensor(v, shape: [1, 1, 4, 4])
        #expect(try x.maxPool2d(kernel: 2).scalars[0].isNaN)
        #expect(try x.maxPool2d(kernel: 3, stride: 1).scalars.allSatisfy { $0.isNaN })
        let y = try Tensor.conv2d(x, weight: Tensor.ones([1, 1, 1, 1]), fuseReLU: true, fuseMaxPool: 2)
        #expect(y.scalars[0].isNaN && y.scalars[1] == 1)
    }

    @Test func avgPoolMatchesReferenceAndGradients() throws {
        for (i, c) in Self.configs.enumerated() {
            let x = Fixtures.uniform([2, 2, c.h, c.w], seed: UInt64(200 + i))
            let s = c.stride ?? c.kernel
            let r = referencePool(x, kernel: (c.kernel.first, c.kernel.second), stride: (s.first, s.second),
                                  padding: (c.padding.first, c.padding.second), max: false)
            assertClose(try x.avgPool2d(kernel: c.kernel, stride: c.stride, padding: c.padding), r, atol: 1e-6, "config \(i)")
            try expectGradients([x], "config \(i)") { try $0[0].avgPool2d(kernel: c.kernel, stride: c.stride, padding: c.padding) }
        }
    }

    @Test func adaptiveAvgPoolWindowsAndGradients() throws {
        // 5×7 → 3×2: rows [0,2), [1,4), [3,5); columns [0,4), [3,7) (overlapping, uneven).
        let x = Fixtures.uniform([2, 2, 5, 7], seed: 300)
        let y = try x.adaptiveAvgPool2d([3, 2])
        #expect(y.shape == [2, 2, 3, 2])
        let xs = x.scalars
        var expected: Float = 0
        for h in 1..<4 { for w in 3..<7 { expected += xs[h * 7 + w] } }
        assertClose(y.scalars[3], expected / 12, atol: 1e-6)
        try expectGradients([x]) { try $0[0].adaptiveAvgPool2d([3, 2]) }
        // Output size 1 is a global mean; equal sizes are the identity.
        assertClose(try x.adaptiveAvgPool2d(1).reshape([4]), try x.mean(axes: [2, 3]).reshape([4]), atol: 1e-6)
        assertClose(try x.adaptiveAvgPool2d([5, 7]), x, atol: 1e-6)
        try expectGradients([Fixtures.uniform([1, 1, 3, 4], seed: 301)]) { try $0[0].adaptiveAvgPool2d([5, 6]) }
    }

    @Test func poolingErrors() {
        let x = Tensor.ones([1, 1, 4, 4])
        #expect(throws: CohortError.self) { try Tensor.ones([4, 4]).maxPool2d(kernel: 2) }
        #expect(throws: CohortError.self) { try x.maxPool2d(kernel: 5) }
        #expect(throws: CohortError.self) { try x.maxPool2d(kernel: 2, padding: 2) }
        #expect(throws: CohortError.self) { try x.avgPool2d(kernel: 2, stride: 0) }
        #expect(throws: CohortError.self) { try x.adaptiveAvgPool2d(0) }
        do { _ = try x.maxPool2d(kernel: 5) } catch { #expect("\(error)".contains("[1, 1, 4, 4]")) }
    }
}
