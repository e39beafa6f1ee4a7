// Fused attention: finite-difference gradients (causal, key padding, both, rows
// with every key masked, strided and packed inputs), equivalence of forward and
// backward with the explicit matmul → mask → softmax → matmul composition, no
// NaN for fully masked rows, identical results on 1 and 2 workers, shape errors.
import CohortCore
import CohortKernels
@testable import CohortTensor
import CohortTestSupport
import Testing

// The fused op returns a [B, H, T, D] view stored [B, T, H, D]. Tests read values through
// `.contiguous()` first: `Tensor.withContiguousBuffer` (behind `.scalars`) releases its
// temporary contiguous copy before reading it, so under parallel tests another thread can
// recycle that buffer mid-read (reported to the integrator; Tensor.swift is not ours).
@Suite struct AttentionTests {
    /// softmax(scale · q kᵀ + bias) v from basic ops; masked entries get -1e9.
    func reference(_ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool, mask: [[Float]]?) throws -> Tensor {
        let (b, tq, tk, d) = (q.shape[0], q.shape[2], k.shape[2], q.shape[3])
        var bias = [Float](repeating: 0, count: b * tq * tk)
        for bi in 0..<b { for i in 0..<tq { for j in 0..<tk where (causal && j > i) || (mask.map { $0[bi][j] == 0 } ?? false) {
            bias[(bi * tq + i) * tk + j] = -1e9
        } } }
        let s = try Tensor.matmul(q, k.transpose()) * (1 / Float(d).squareRoot()) + Tensor(bias, shape: [b, 1, tq, tk])
        return try Tensor.matmul(s.softmax(axis: -1), v)
    }

    func maskTensor(_ m: [[Float]]) -> Tensor { try! Tensor(m.flatMap { $0 }, shape: [m.count, m[0].count]) }

    /// A random 0/1 mask whose key 0 is always kept (so no row is fully masked).
    func randomMask(batch: Int, keys: Int, seed: UInt64) -> [[Float]] {
        var g = RandomGenerator(seed: seed)
        return (0..<batch).map { _ in (0..<keys).map { j in j == 0 || g.nextFloat() > 0.3 ? 1 : 0 } }
    }

    @Test func fusedMatchesExplicitComposition() throws {
        let shapes: [(tq: Int, tk: Int)] = [(37, 37), (5, 9), (9, 5)]
        var seed: UInt64 = 100
        for (tq, tk) in shapes {
            for causal in [false, true] {
                for masked in [false, true] {
                    seed += 10
                    let (b, h, d, dv) = (2, 3, 8, 6)
                    let q = Fixtures.uniform([b, h, tq, d], -2, 2, seed: seed), k = Fixtures.uniform([b, h, tk, d], -2, 2, seed: seed + 1)
                    let v = Fixtures.uniform([b, h, tk, dv], seed: seed + 2)
                    let (q2, k2, v2) = (q.copy(), k.copy(), v.copy())
                    for t in [q2, k2, v2] { t.requiresGrad = true }
                    let mask = masked ? randomMask(batch: b, keys: tk, seed: seed + 3) : nil
                    let label = "Tq \(tq) Tk \(tk) causal \(causal) masked \(masked)"
                    let fused = try Tensor.scaledDotProductAttention(q, k, v, causal: causal, keyPaddingMask: mask.map(maskTensor)).contiguous()
                    let explicit = try reference(q2, k2, v2, causal: causal, mask: mask)
                    assertClose(fused, explicit, atol: 1e-5, rtol: 1e-5, "forward, \(label)")
                    let g = Fixtures.uniform([b, h, tq, dv], seed: seed + 4, requiresGrad: false)
                    try fused.backward(g)
                    try explicit.backward(g)
                    assertClose(q.grad!, q2.grad!, atol: 1e-5, rtol: 1e-4, "dq, \(label)")
                    assertClose(k.grad!, k2.grad!, atol: 1e-5, rtol: 1e-4, "dk, \(label)")
                    assertClose(v.grad!, v2.grad!, atol: 1e-5, rtol: 1e-4, "dv, \(label)")
                }
            }
        }
    }

    @Test func packedMatchesExplicitComposition() throws {
        let (b, t, heads, d) = (2, 37, 4, 8)
        let c = heads * d
        let qkv = Fixtures.uniform([b, t, 3 * c], -2, 2, seed: 200)
        let qkv2 = qkv.copy()
        qkv2.requiresGrad = true
        let mask = randomMask(batch: b, keys: t, seed: 201)
        let fused = try Tensor.multiHeadSelfAttention(packed: qkv, heads: heads, causal: true, keyPaddingMask: maskTensor(mask))
        let parts = try qkv2.split([c, c, c], axis: 2).map { try $0.reshape([b, t, heads, d]).transpose(1, 2) }
        let explicit = try reference(parts[0], parts[1], parts[2], causal: true, mask: mask).transpose(1, 2).reshape([b, t, c])
        assertClose(fused, explicit, atol: 1e-5, rtol: 1e-5, "forward")
        let g = Fixtures.uniform([b, t, c], seed: 202, requiresGrad: false)
        try fused.backward(g)
        try explicit.backward(g)
        assertClose(qkv.grad!, qkv2.grad!, atol: 1e-5, rtol: 1e-4, "dqkv")
    }

    func qkv(_ b: Int, _ h: Int, _ t: Int, _ d: Int, seed: UInt64) -> [Tensor] {
        [Fixtures.uniform([b, h, t, d], seed: seed), Fixtures.uniform([b, h, t, d], seed: seed + 1),
         Fixtures.uniform([b, h, t, d], seed: seed + 2)]
    }

    @Test func gradientsCausal() throws {
        try expectGradients(qkv(2, 2, 5, 3, seed: 300)) { try Tensor.scaledDotProductAttention($0[0], $0[1], $0[2], causal: true).contiguous() }
        try expectGradients(qkv(1, 2, 4, 3, seed: 310), "non-causal") { try Tensor.scaledDotProductAttention($0[0], $0[1], $0[2]).contiguous() }
    }

    @Test func gradientsKeyPadding() throws {
        let mask = maskTensor([[1, 1, 0, 1, 0], [1, 0, 1, 1, 1]])
        try expectGradients(qkv(2, 2, 5, 3, seed: 320)) {
            try Tensor.scaledDotProductAttention($0[0], $0[1], $0[2], keyPaddingMask: mask).contiguous()
        }
    }

    @Test func gradientsCausalAndKeyPadding() throws {
        let mask = maskTensor([[1, 0, 1, 1, 0], [1, 1, 1, 0, 1]])
        try expectGradients(qkv(2, 2, 5, 3, seed: 330)) {
            try Tensor.scaledDotProductAttention($0[0], $0[1], $0[2], causal: true, keyPaddingMask: mask).contiguous()
        }
    }

    @Test func gradientsWithFullyMaskedRows() throws {
        // Causal with key 0 masked: query 0 of item 0 sees no key. Item 1 masks every key.
        let mask = maskTensor([[0, 1, 1, 0, 1], [0, 0, 0, 0, 0]])
        try expectGradients(qkv(2, 2, 5, 3, seed: 340)) {
            try Tensor.scaledDotProductAttention($0[0], $0[1], $0[2], causal: true, keyPaddingMask: mask).contiguous()
        }
    }

    @Test func fullyMaskedRowsAreZeroNotNaN() throws {
        let mask = maskTensor([[0, 1, 1, 0, 1], [0, 0, 0, 0, 0]])
        let (q, k, v) = (Fixtures.uniform([2, 2, 5, 3], seed: 350), Fixtures.uniform([2, 2, 5, 3], seed: 351),
                         Fixtures.uniform([2, 2, 5, 3], seed: 352))
        let out = try Tensor.scaledDotProductAttention(q, k, v, causal: true, keyPaddingMask: mask).contiguous()
        #expect(out.scalars.allSatisfy { $0.isFinite })
        for h in 0..<2 {
            let row = try out.slice(axis: 0, 0, 1).slice(axis: 1, h, h + 1).slice(axis: 2, 0, 1).scalars
            #expect(row == [0, 0, 0])
        }
        let item1 = try out.slice(axis: 0, 1, 2).scalars
        #expect(item1.allSatisfy { $0 == 0 })
        try out.sum().backward()
        for t in [q, k, v] { #expect(t.grad!.scalars.allSatisfy { $0.isFinite }) }
        for t in [q, k, v] {
            let g1 = try t.grad!.slice(axis: 0, 1, 2).scalars
            #expect(g1.allSatisfy { $0 == 0 })
        }
    }

    @Test func gradientsOnStridedAndPackedInputs() throws {
        // nanoGPT's path: split a fused projection, view as heads, transpose (no copies).
        let (b, t, h, d) = (2, 4, 2, 3)
        try expectGradients([Fixtures.uniform([b, t, 3 * h * d], seed: 360)], "split views") { xs in
            let p = try xs[0].split([h * d, h * d, h * d], axis: 2).map { try $0.reshape([b, t, h, d]).transpose(1, 2) }
            return try Tensor.scaledDotProductAttention(p[0], p[1], p[2], causal: true).contiguous()
        }
        let mask = maskTensor([[1, 1, 0, 1], [0, 1, 1, 1]])
        try expectGradients([Fixtures.uniform([b, t, 3 * h * d], seed: 361)], "packed") {
            try Tensor.multiHeadSelfAttention(packed: $0[0], heads: h, causal: true, keyPaddingMask: mask)
        }
        // Stepped last axis: copied once, gradients still flow.
        let q = Fixtures.steppedLeaf([1, 2, 3, 2], step: 2, seed: 362)
        try expectGradients([q, Fixtures.uniform([1, 2, 3, 2], seed: 363), Fixtures.uniform([1, 2, 3, 2], seed: 364)], "stepped q") {
            try Tensor.scaledDotProductAttention($0[0], $0[1], $0[2], causal: true).contiguous()
        }
    }

    @Test func twoWorkersGiveIdenticalResults() throws {
        let (b, h, t, d) = (3, 3, 40, 8)
        let q = Fixtures.uniform([b, h, t, d], seed: 370, requiresGrad: false), k = Fixtures.uniform([b, h, t, d], seed: 371, requiresGrad: false)
        let v = Fixtures.uniform([b, h, t, d], seed: 372, requiresGrad: false), g = Fixtures.uniform([b, h, t, d], seed: 373, requiresGrad: false)
        let mask = maskTensor(randomMask(batch: b, keys: t, seed: 374))
        let layout = HeadLayout(batchStride: h * t * d, headStride: t * d, rowStride: d)
        let pr = AttentionProblem(batch: b, heads: h, queries: t, keys: t, headDim: d, valueDim: d, scale: 0.35, causal: true, blockRows: 16)
        func run(_ workers: Int) -> [[Float]] {
            let out = Tensor.zeros([b, h, t, d]), probs = Tensor.zeros([b, h, t, t])
            let dq = Tensor.zeros([b, h, t, d]), dk = Tensor.zeros([b, h, t, d]), dv = Tensor.zeros([b, h, t, d])
            let scratch = Tensor.zeros([workers * pr.scratchPerWorker])
            AttentionKernels.forward(pr, q: q.base, layout, k: k.base, layout, v: v.base, layout, keyMask: mask.base,
                                     probs: probs.base, out: out.base, layout, workers: workers)
            AttentionKernels.backward(pr, q: q.base, layout, k: k.base, layout, v: v.base, layout, probs: probs.base,
                                      gradOut: g.base, layout, dq: dq.base, layout, dk: dk.base, layout, dv: dv.base, layout,
                                      scratch: scratch.base, workers: workers)
            return [out.scalars, dq.scalars, dk.scalars, dv.scalars]
        }
        let one = run(1), two = run(2)
        #expect(one == two)
        #expect(one.allSatisfy { $0.allSatisfy { $0.isFinite } })
    }

    @Test func shapeErrors() throws {
        let x = Tensor.zeros([2, 2, 4, 3])
        #expect(throws: CohortError.self) { try Tensor.scaledDotProductAttention(Tensor.zeros([2, 4, 3]), x, x) }
        #expect(throws: CohortError.self) { try Tensor.scaledDotProductAttention(x, Tensor.zeros([2, 2, 4, 5]), x) }
        #expect(throws: CohortError.self) { try Tensor.scaledDotProductAttention(x, x, Tensor.zeros([2, 2, 5, 3])) }
        #expect(throws: CohortError.self) { try Tensor.scaledDotProductAttention(x, x, x, keyPaddingMask: Tensor.ones([2, 3])) }
        #expect(throws: CohortError.self) { try Tensor.multiHeadSelfAttention(packed: Tensor.zeros([2, 4, 10]), heads: 2) }
        #expect(throws: CohortError.self) {
            try Tensor.multiHeadSelfAttention(packed: Tensor.zeros([2, 4, 12]), heads: 2, keyPaddingMask: Tensor.ones([2, 5]))
        }
    }
}
