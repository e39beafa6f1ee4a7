// conv2d: equivalence with a direct-loop reference over strides, padding,
// dilation, groups (incl. depthwise) and non-square kernels; finite-difference
// gradients for x, weight and bias; the fused ReLU / max-pool epilogues against
// the unfused ops; in-place weight-gradient accumulation; shape errors.
import CohortCore
import CohortKernels
@testable import CohortTensor
import CohortTestSupport
import Testing

/// A convolution configuration: input `[n, c, h, w]`, `o` filters of `kh×kw`.
struct ConvCase: CustomStringConvertible, Sendable {
    var n = 2, c = 2, h = 5, w = 5, o = 3, kh = 3, kw = 3
    var stride = IntOrPair(1), padding = IntOrPair(0), dilation = IntOrPair(1), groups = 1, bias = true
    var description: String {
        "[\(n),\(c),\(h),\(w)] o=\(o) k=\(kh)x\(kw) s=\(stride) p=\(padding) d=\(dilation) g=\(groups) bias=\(bias)"
    }
}

/// Direct seven-loop convolution (the definition), for comparison.
func referenceConv2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, stride: IntOrPair, padding: IntOrPair,
                     dilation: IntOrPair, groups: Int) -> Tensor {
    let (N, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (O, Cg, KH, KW) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let OH = (H + 2 * padding.first - dilation.first * (KH - 1) - 1) / stride.first + 1
    let OW = (W + 2 * padding.second - dilation.second * (KW - 1) - 1) / stride.second + 1
    let xs = x.scalars, ws = w.scalars, bs = b?.scalars
    var out = [Float](repeating: 0, count: N * O * OH * OW)
    let og = O / groups
    for n in 0..<N {
        for o in 0..<O {
            let g = o / og
            for oh in 0..<OH {
                for ow in 0..<OW {
                    var s = Double(bs?[o] ?? 0)
                    for cg in 0..<Cg {
                        let c = g * Cg + cg
                        for i in 0..<KH {
                            for j in 0..<KW {
                                let ih = oh * stride.first - padding.first + i * dilation.first
                                let iw = ow * stride.second - padding.second + j * dilation.second
                                guard ih >= 0, ih < H, iw >= 0, iw < W else { continue }
                                s += Double(xs[((n * C + c) * H + ih) * W + iw]) * Double(ws[((o * Cg + cg) * KH + i) * KW + j])
                            }
                        }
                    }
                    out[((n * O + o) * OH + oh) * OW + ow] = Float(s)
                }
            }
        }
    }
    return try! Tensor(out, shape: [N, O, OH, OW])
}

@Suite struct ConvGradTests {
    static let cases: [ConvCase] = [
        ConvCase(),
        ConvCase(bias: false),
        ConvCase(h: 6, w: 5, stride: 2, padding: 1),
        ConvCase(h: 7, w: 7, dilation: 2),
        ConvCase(c: 4, o: 4, groups: 2),
        ConvCase(c: 3, o: 3, padding: 1, groups: 3),                      // depthwise
        ConvCase(c: 2, o: 4, padding: 1, groups: 2, bias: false),
        ConvCase(h: 6, w: 7, kh: 2, kw: 3, stride: [2, 1], padding: [1, 0]),  // non-square kernel
        ConvCase(h: 5, w: 8, kh: 1, kw: 3, stride: [1, 3], padding: [0, 2], dilation: [1, 2]),
        ConvCase(n: 3, c: 3, h: 4, w: 4, o: 5, kh: 1, kw: 1),                // 1×1
        ConvCase(n: 1, c: 1, h: 3, w: 3, o: 2, kh: 3, kw: 3, padding: 2, dilation: 2),
    ]

    func tensors(_ k: ConvCase, seed: UInt64) -> (Tensor, Tensor, Tensor?) {
        let x = Fixtures.uniform([k.n, k.c, k.h, k.w], seed: seed)
        let w = Fixtures.uniform([k.o, k.c / k.groups, k.kh, k.kw], seed: seed + 1)
        let b = k.bias ? Fixtures.uniform([k.o], seed: seed + 2) : nil
        return (x, w, b)
    }

    @Test(arguments: cases) func matchesDirectLoops(_ k: ConvCase) throws {
        let (x, w, b) = tensors(k, seed: 10)
        let y = try Tensor.conv2d(x, weight: w, bias: b, stride: k.stride, padding: k.padding, dilation: k.dilation, groups: k.groups)
        let r = referenceConv2d(x, w, b, stride: k.stride, padding: k.padding, dilation: k.dilation, groups: k.groups)
        assertClose(y, r, atol: 1e-5, rtol: 1e-5, "\(k)")
    }

    @Test(arguments: cases) func gradients(_ k: ConvCase) throws {
        let (x, w, b) = tensors(k, seed: 20)
        let inputs = b.map { [x, w, $0] } ?? [x, w]
        try expectGradients(inputs, "\(k)") {
            try Tensor.conv2d($0[0], weight: $0[1], bias: $0.count > 2 ? $0[2] : nil, stride: k.stride, padding: k.padding,
                              dilation: k.dilation, groups: k.groups)
        }
    }

    @Test func largeBatchSpansSeveralChunks() throws {
        // 40 samples of a 16-channel 3×3 convolution split into several im2col chunks.
        let x = Fixtures.uniform([40, 16, 10, 10], seed: 30, requiresGrad: false)
        let w = Fixtures.uniform([8, 16, 3, 3], seed: 31, requiresGrad: false), b = Fixtures.uniform([8], seed: 32, requiresGrad: false)
        #expect(Conv.chunkSamples(try Tensor.convGeometry(x.shape, w.shape, bias: [8], stride: 1, padding: 1, dilation: 1, groups: 1),
                                  batch: 40) < 40)
        let y = try Tensor.conv2d(x, weight: w, bias: b, padding: 1)
        assertClose(y, referenceConv2d(x, w, b, stride: 1, padding: 1, dilation: 1, groups: 1), atol: 1e-4, rtol: 1e-4)
    }

    /// Splitting the batch over two worker threads gives the same output, input, weight and bias
    /// gradients as one worker, up to the GEMM's rounding (see below) and summation order.
    @Test(arguments: [false, true]) func twoWorkersMatchOne(_ pooled: Bool) throws {
        let x = Fixtures.uniform([40, 16, 12, 12], seed: 33, requiresGrad: false)
        let w = Fixtures.uniform([8, 16, 3, 3], seed: 34, requiresGrad: false), b = Fixtures.uniform([8], seed: 35, requiresGrad: false)
        let g = try Tensor.convGeometry(x.shape, w.shape, bias: [8], stride: 1, padding: 1, dilation: 1, groups: 1)
        #expect(Conv.workerCount(g, batch: 40, requested: 2) == 2)
        let pool = pooled ? 2 : 1
        let outShape = [40, 8, 12 / pool, 12 / pool]
        let dy = Fixtures.uniform(outShape, seed: 36, requiresGrad: false)
        var results: [[[Float]]] = []
        for workers in [1, 2] {
            let out = Tensor.zeros(outShape), argmax = Storage(count: out.count)
            let dx = Tensor.zeros(x.shape), dw = Tensor.zeros(w.shape), db = Tensor.zeros([8])
            let fwd = Storage(count: Conv.scratchCount(g, batch: 40, workers: workers, backward: false))
            let bwd = Storage(count: Conv.scratchCount(g, batch: 40, workers: workers, backward: true))
            Tensor.withArgmax(pooled ? argmax : nil) { am in
                Conv.forward(g, batch: 40, x: x.base, weight: w.base, bias: b.base, relu: true, pool: pool, argmax: am,
                             out: out.base, scratch: fwd.pointer, workers: workers)
                Conv.backward(g, batch: 40, x: x.base, weight: w.base, dy: dy.base, reluOutput: out.base, pool: pool,
                              argmax: am.map { UnsafePointer($0) }, dx: dx.base, dw: dw.base, db: db.base,
                              scratch: bwd.pointer, workers: workers)
            }
            results.append([out.scalars, dx.scalars, dw.scalars, db.scalars])
        }
        // Not bitwise: each worker's GEMM has another column count, and with 2 OpenBLAS threads the
        // Zen/Haswell kernels round such GEMMs differently (measured here: 4.8e-6 on outputs up to
        // 16.8, 4.8e-7 on input gradients up to 10; bitwise equal with 1 BLAS thread). A wrong
        // batch split would be off by whole terms, far beyond these bounds.
        assertClose(results[1][0], results[0][0], atol: 2e-5, rtol: 1e-6, "forward")
        assertClose(results[1][1], results[0][1], atol: 2e-5, rtol: 1e-6, "input gradient")
        assertClose(results[1][2], results[0][2], atol: 1e-4, rtol: 1e-5, "weight gradient")
        assertClose(results[1][3], results[0][3], atol: 1e-4, rtol: 1e-5, "bias gradient")
    }

    @Test func nonContiguousInputAndWeight() throws {
        let x = Fixtures.transposedLeaf([2, 2, 5, 4], seed: 40)   // H and W swapped in memory
        let w = Fixtures.steppedLeaf([3, 2, 3, 3], seed: 41)
        try expectGradients([x, w]) { try Tensor.conv2d($0[0], weight: $0[1], padding: 1) }
    }

    /// The fused epilogues give the same values and gradients as the separate ops.
    @Test(arguments: [(false, 1), (true, 1), (false, 2), (true, 2), (true, 3)])
    func fusedReLUAndPoolMatchSeparateOps(_ relu: Bool, _ pool: Int) throws {
        for (h, w, seed) in [(8, 8, UInt64(50)), (9, 11, 60)] {
            let x = Fixtures.uniform([3, 2, h, w], seed: seed), wt = Fixtures.uniform([4, 2, 3, 3], seed: seed + 1)
            let b = Fixtures.uniform([4], seed: seed + 2)
            let x2 = x.copy(), w2 = wt.copy(), b2 = b.copy()
            for t in [x2, w2, b2] { t.requiresGrad = true }
            let fused = try Tensor.conv2d(x, weight: wt, bias: b, fuseReLU: relu, fuseMaxPool: pool)
            var separate = try Tensor.conv2d(x2, weight: w2, bias: b2)
            if relu { separate = separate.relu() }
            if pool > 1 { separate = try separate.maxPool2d(kernel: IntOrPair(pool)) }
            assertClose(fused, separate, atol: 1e-6, rtol: 1e-6, "relu \(relu) pool \(pool)")
            var g = RandomGenerator(seed: seed + 3)
            let seedGrad = Tensor.rand(fused.shape, low: -1, high: 1, generator: &g)
            try fused.backward(seedGrad)
            try separate.backward(seedGrad)
            assertClose(x.grad!, x2.grad!, atol: 1e-5, rtol: 1e-5, "dx relu \(relu) pool \(pool)")
            assertClose(wt.grad!, w2.grad!, atol: 1e-5, rtol: 1e-5, "dw relu \(relu) pool \(pool)")
            assertClose(b.grad!, b2.grad!, atol: 1e-5, rtol: 1e-5, "db relu \(relu) pool \(pool)")
        }
    }

    @Test func fusedPoolGradientsFiniteDifference() throws {
        // Distinct, well-separated inputs keep each window's maximum away from ties under ±eps.
        let x = Fixtures.distinct([1, 1, 6, 6], spacing: 0.3, seed: 70)
        let w = try Tensor([1], shape: [1, 1, 1, 1], requiresGrad: true)
        let b = try Tensor([0.05], shape: [1], requiresGrad: true)
        try expectGradients([x, w, b]) { try Tensor.conv2d($0[0], weight: $0[1], bias: $0[2], fuseReLU: true, fuseMaxPool: 2) }
    }

    @Test func weightGradientAccumulatesInPlace() throws {
        let x = Fixtures.uniform([2, 2, 5, 5], seed: 80, requiresGrad: false)
        let w = Fixtures.uniform([3, 2, 3, 3], seed: 81), b = Fixtures.uniform([3], seed: 82)
        try Tensor.conv2d(x, weight: w, bias: b).sum().backward()
        let (gw, gb) = (w.grad!, b.grad!)
        let (once, onceB) = (gw.scalars, gb.scalars)
        try Tensor.conv2d(x, weight: w, bias: b).sum().backward()
        #expect(w.grad === gw && b.grad === gb, "the same gradient tensors are accumulated into")
        assertClose(gw.scalars, once.map { 2 * $0 }, atol: 1e-5, rtol: 1e-5)
        assertClose(gb.scalars, onceB.map { 2 * $0 }, atol: 1e-5, rtol: 1e-5)
    }

    @Test func shapeErrorsNameBothShapes() {
        func expectError(_ parts: [String], _ body: () throws -> Tensor) {
            do { _ = try body(); Issue.record("expected an error mentioning \(parts)") } catch let e as CohortError {
                #expect(parts.allSatisfy { e.description.contains($0) }, "\(e.description)")
            } catch { Issue.record("unexpected \(error)") }
        }
        let x = Tensor.ones([2, 3, 8, 8])
        expectError(["conv2d", "[2, 3, 8, 8]", "[4, 2, 3, 3]"]) { try Tensor.conv2d(x, weight: Tensor.ones([4, 2, 3, 3])) }
        expectError(["conv2d", "[2, 3, 8, 8]", "[4, 3, 3]"]) { try Tensor.conv2d(x, weight: Tensor.ones([4, 3, 3])) }
        expectError(["conv2d", "[3, 8, 8]", "[4, 3, 3, 3]"]) { try Tensor.conv2d(Tensor.ones([3, 8, 8]), weight: Tensor.ones([4, 3, 3, 3])) }
        expectError(["conv2d", "groups 2"]) { try Tensor.conv2d(x, weight: Tensor.ones([4, 1, 3, 3]), groups: 2) }
        expectError(["conv2d", "bias [3]", "[4, 3, 3, 3]"]) { try Tensor.conv2d(x, weight: Tensor.ones([4, 3, 3, 3]), bias: Tensor.ones([3])) }
        expectError(["conv2d", "[2, 3, 8, 8]", "[4, 3, 9, 9]", "smaller than the kernel"]) {
            try Tensor.conv2d(x, weight: Tensor.ones([4, 3, 9, 9]))
        }
        expectError(["conv2d", "smaller than the kernel"]) {
            try Tensor.conv2d(Tensor.ones([1, 1, 8, 8]), weight: Tensor.ones([1, 1, 9, 9]), stride: 2)
        }
        expectError(["stride"]) { try Tensor.conv2d(x, weight: Tensor.ones([4, 3, 3, 3]), stride: 0) }
        expectError(["padding"]) { try Tensor.conv2d(x, weight: Tensor.ones([4, 3, 3, 3]), padding: -1) }
        expectError(["max-pool"]) { try Tensor.conv2d(x, weight: Tensor.ones([4, 3, 3, 3]), fuseMaxPool: 7) }
    }
}
