// convTranspose2d against a direct scatter loop (the definition) over strides,
// padding, output padding, dilation, groups and non-square kernels; finite-difference
// gradients for input, weight and bias; weight-gradient accumulation into a
// parameter; conv1d against conv2d of height 1 and its gradients; shape errors.
import CohortCore
@testable import CohortTensor
import CohortTestSupport
import Testing

/// A transposed-convolution configuration: input `[n, c, h, w]`, weight `[c, o/groups, kh, kw]`.
struct ConvTransposeCase: CustomStringConvertible, Sendable {
    var n = 2, c = 2, h = 3, w = 4, o = 3, kh = 3, kw = 3
    var stride = IntOrPair(1), padding = IntOrPair(0), outputPadding = IntOrPair(0), dilation = IntOrPair(1), groups = 1, bias = true
    var description: String {
        "[\(n),\(c),\(h),\(w)] o=\(o) k=\(kh)x\(kw) s=\(stride) p=\(padding) op=\(outputPadding) d=\(dilation) g=\(groups) bias=\(bias)"
    }
}

/// Every input pixel scattered through the kernel: `y[o, i·s − p + k·d] += x[c, i]·w[c, o, k]`.
func referenceConvTranspose2d(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ k: ConvTransposeCase) -> Tensor {
    let (N, C, H, W) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (Og, KH, KW) = (w.shape[1], w.shape[2], w.shape[3])
    let O = Og * k.groups, Cg = C / k.groups
    let OH = (H - 1) * k.stride.first - 2 * k.padding.first + k.dilation.first * (KH - 1) + k.outputPadding.first + 1
    let OW = (W - 1) * k.stride.second - 2 * k.padding.second + k.dilation.second * (KW - 1) + k.outputPadding.second + 1
    let xs = x.scalars, ws = w.scalars
    var out = [Double](repeating: 0, count: N * O * OH * OW)
    for n in 0..<N {
        for o in 0..<O { for p in 0..<OH * OW { out[(n * O + o) * OH * OW + p] = Double(b?.scalars[o] ?? 0) } }
        for c in 0..<C {
            let g = c / Cg
            for i in 0..<H {
                for j in 0..<W {
                    let v = Double(xs[((n * C + c) * H + i) * W + j])
                    for oc in 0..<Og {
                        for a in 0..<KH {
                            for bb in 0..<KW {
                                let y = i * k.stride.first - k.padding.first + a * k.dilation.first
                                let z = j * k.stride.second - k.padding.second + bb * k.dilation.second
                                guard y >= 0, y < OH, z >= 0, z < OW else { continue }
                                let o = g * Og + oc
                                out[((n * O + o) * OH + y) * OW + z] += v * Double(ws[((c * Og + oc) * KH + a) * KW + bb])
                            }
                        }
                    }
                }
            }
        }
    }
    return try! Tensor(out.map(Float.init), shape: [N, O, OH, OW])
}

@Suite struct ConvTransposeGradTests {
    static let cases: [ConvTransposeCase] = [
        ConvTransposeCase(),
        ConvTransposeCase(bias: false),
        ConvTransposeCase(stride: 2),
        ConvTransposeCase(stride: 2, padding: 1),
        ConvTransposeCase(stride: 2, padding: 1, outputPadding: 1),
        ConvTransposeCase(h: 3, w: 3, kh: 4, kw: 4, stride: 2, padding: 1),                       // DCGAN's 2× upsampling
        ConvTransposeCase(stride: [3, 2], padding: [1, 0], outputPadding: [2, 1]),
        ConvTransposeCase(c: 4, o: 6, groups: 2),
        ConvTransposeCase(c: 4, o: 4, stride: 2, padding: 1, outputPadding: 1, groups: 2, bias: false),
        ConvTransposeCase(c: 3, o: 3, stride: 2, padding: 1, groups: 3),                            // depthwise
        ConvTransposeCase(h: 4, w: 3, kh: 2, kw: 3, dilation: 2),
        ConvTransposeCase(n: 1, c: 2, h: 2, w: 2, o: 2, kh: 1, kw: 1, stride: 2, outputPadding: 1),
    ]

    func tensors(_ k: ConvTransposeCase, seed: UInt64) -> (Tensor, Tensor, Tensor?) {
        (Fixtures.uniform([k.n, k.c, k.h, k.w], seed: seed), Fixtures.uniform([k.c, k.o / k.groups, k.kh, k.kw], seed: seed + 1),
         k.bias ? Fixtures.uniform([k.o], seed: seed + 2) : nil)
    }

    func apply(_ t: [Tensor], _ k: ConvTransposeCase) throws -> Tensor {
        try Tensor.convTranspose2d(t[0], weight: t[1], bias: t.count > 2 ? t[2] : nil, stride: k.stride, padding: k.padding,
                                   outputPadding: k.outputPadding, dilation: k.dilation, groups: k.groups)
    }

    @Test(arguments: cases) func matchesDirectLoops(_ k: ConvTransposeCase) throws {
        let (x, w, b) = tensors(k, seed: 10)
        let y = try apply(b.map { [x, w, $0] } ?? [x, w], k)
        assertClose(y, referenceConvTranspose2d(x, w, b, k), atol: 1e-5, rtol: 1e-5, "\(k)")
    }

    @Test(arguments: cases) func gradients(_ k: ConvTransposeCase) throws {
        let (x, w, b) = tensors(k, seed: 20)
        try expectGradients(b.map { [x, w, $0] } ?? [x, w], "\(k)") { try apply($0, k) }
    }

    @Test func nonContiguousInputAndWeight() throws {
        let k = ConvTransposeCase(stride: 2, padding: 1, outputPadding: 1)
        let x = Fixtures.transposedLeaf([2, 2, 4, 3], seed: 40), w = Fixtures.steppedLeaf([2, 3, 3, 3], seed: 41)
        try expectGradients([x, w], "strided views") { try apply($0, k) }
    }

    @Test func weightGradientAccumulatesIntoParameter() throws {
        let k = ConvTransposeCase(stride: 2)
        let (x, w, b) = tensors(k, seed: 50)
        let first = try apply([x, w, b!], k)
        try first.sum().backward()
        let once = w.grad!.scalars
        try apply([x, w, b!], k).sum().backward()
        assertClose(w.grad!.scalars, once.map { 2 * $0 }, atol: 1e-5, rtol: 1e-5)
    }

    /// 40 samples span several im2col chunks (and the BLAS threads' batch slices, 2 by default
    /// here): the output against the direct loops, and the adjoint identity
    /// ⟨convT(x), y⟩ = ⟨x, conv2d(y)⟩ that makes conv2d the input gradient.
    @Test func largeBatchAndAdjointOfConv2d() throws {
        let k = ConvTransposeCase(n: 40, c: 8, h: 10, w: 10, o: 16, stride: 2, padding: 1, outputPadding: 1, bias: false)
        let x = Fixtures.uniform([40, 8, 10, 10], seed: 80, requiresGrad: false), w = Fixtures.uniform([8, 16, 3, 3], seed: 81, requiresGrad: false)
        let y = try apply([x, w], k)
        assertClose(y, referenceConvTranspose2d(x, w, nil, k), atol: 1e-4, rtol: 1e-4)
        let r = Fixtures.uniform(y.shape, seed: 82, requiresGrad: false)
        let back = try Tensor.conv2d(r, weight: w, stride: 2, padding: 1)
        let lhs = zip(y.scalars, r.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(x.scalars, back.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        assertClose(Float(lhs), Float(rhs), atol: 1e-2, rtol: 1e-5)
    }

    @Test func rejectsBadShapesAndOutputPadding() throws {
        let x = Tensor.zeros([1, 2, 3, 3])
        #expect(throws: CohortError.self) { try Tensor.convTranspose2d(x, weight: Tensor.zeros([3, 2, 3, 3])) }
        #expect(throws: CohortError.self) { try Tensor.convTranspose2d(x, weight: Tensor.zeros([2, 2, 3, 3]), outputPadding: 1) }
        #expect(throws: CohortError.self) { try Tensor.convTranspose2d(x, weight: Tensor.zeros([2, 2, 3, 3]), bias: Tensor.zeros([3])) }
        #expect(throws: CohortError.self) { try Tensor.convTranspose2d(x, weight: Tensor.zeros([2, 2, 1, 1]), padding: 2) }
    }

    @Test(arguments: [(1, 0, 1, 1), (2, 1, 1, 1), (1, 2, 2, 1), (2, 1, 1, 2)])
    func conv1d(stride: Int, padding: Int, dilation: Int, groups: Int) throws {
        let x = Fixtures.uniform([2, 4, 9], seed: 60), w = Fixtures.uniform([6, 4 / groups, 3], seed: 61), b = Fixtures.uniform([6], seed: 62)
        let y = try Tensor.conv1d(x, weight: w, bias: b, stride: stride, padding: padding, dilation: dilation, groups: groups)
        let y2 = try Tensor.conv2d(x.reshape([2, 4, 1, 9]), weight: w.reshape([6, 4 / groups, 1, 3]), bias: b,
                                   stride: IntOrPair(1, stride), padding: IntOrPair(0, padding), dilation: IntOrPair(1, dilation), groups: groups)
        #expect(y.shape == [2, 6, y2.shape[3]])
        assertClose(y.scalars, y2.scalars, atol: 1e-6)
        try expectGradients([x, w, b], "conv1d s=\(stride) p=\(padding) d=\(dilation) g=\(groups)") {
            try Tensor.conv1d($0[0], weight: $0[1], bias: $0[2], stride: stride, padding: padding, dilation: dilation, groups: groups)
        }
        #expect(throws: CohortError.self) { try Tensor.conv1d(Tensor.zeros([2, 4, 1, 9]), weight: w) }
    }
}
