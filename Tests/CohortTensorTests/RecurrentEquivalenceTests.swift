// The fused recurrent layers against cells unrolled from basic ops (linear,
// sigmoid, tanh, slicing, stack): forward values and every gradient agree to
// ~1e-5. H = 17 spans a full SIMD block and a tail; H = 34 on two threads
// splits into two slices of 17 units.
import CohortKernels
@testable import CohortTensor
import CohortTestSupport
import Testing

@Suite struct RecurrentEquivalenceTests {
    static let B = 3, T = 4, F = 5

    func gate(_ t: Tensor, _ k: Int, _ H: Int) throws -> Tensor { try t.slice(axis: 1, k * H, (k + 1) * H) }

    /// The cell written with autograd ops, step by step; returns output [B, T, H], h_T, c_T.
    func unrolled(_ cell: RecurrentCell, x: Tensor, h0: Tensor, c0: Tensor, wih: Tensor, whh: Tensor,
                  bih: Tensor, bhh: Tensor) throws -> (Tensor, Tensor, Tensor?) {
        let H = h0.shape[1]
        func gate(_ t: Tensor, _ k: Int) throws -> Tensor { try self.gate(t, k, H) }
        var h = h0, c = c0
        var outs: [Tensor] = []
        for t in 0..<Self.T {
            let xt = try x.slice(axis: 1, t, t + 1).reshape([Self.B, Self.F])
            let gi = try Tensor.linear(xt, weight: wih, bias: bih), gh = try Tensor.linear(h, weight: whh, bias: bhh)
            switch cell {
            case .rnnTanh:
                h = try (gi + gh).tanh()
            case .lstm:
                let g = try gi + gh
                let i = try gate(g, 0).sigmoid(), f = try gate(g, 1).sigmoid()
                let gg = try gate(g, 2).tanh(), o = try gate(g, 3).sigmoid()
                c = try f * c + i * gg
                h = try o * c.tanh()
            case .gru:
                let r = try (gate(gi, 0) + gate(gh, 0)).sigmoid()
                let z = try (gate(gi, 1) + gate(gh, 1)).sigmoid()
                let n = try (gate(gi, 2) + r * gate(gh, 2)).tanh()
                h = try (1 - z) * n + z * h
            }
            outs.append(h)
        }
        return (try Tensor.stack(outs, axis: 1), h, cell == .lstm ? c : nil)
    }

    func compare(_ cell: RecurrentCell, hidden H: Int, threads: Int) throws {
        let G = cell.gateCount * H
        func make(_ seed: UInt64) -> [Tensor] {
            [Fixtures.uniform([Self.B, Self.T, Self.F], seed: seed), Fixtures.uniform([Self.B, H], seed: seed + 1),
             Fixtures.uniform([Self.B, H], seed: seed + 2), Fixtures.uniform([G, Self.F], -0.5, 0.5, seed: seed + 3),
             Fixtures.uniform([G, H], -0.5, 0.5, seed: seed + 4), Fixtures.uniform([G], -0.5, 0.5, seed: seed + 5),
             Fixtures.uniform([G], -0.5, 0.5, seed: seed + 6)]
        }
        let a = make(100), b = make(100)   // same values, separate gradients
        let fused = try Tensor.recurrentLayer(cell, input: a[0], h0: a[1], c0: cell == .lstm ? a[2] : nil,
                                              weightIH: a[3], weightHH: a[4], biasIH: a[5], biasHH: a[6], threads: threads)
        let (out, h, c) = try unrolled(cell, x: b[0], h0: b[1], c0: b[2], wih: b[3], whh: b[4], bih: b[5], bhh: b[6])
        assertClose(fused.output, out, atol: 1e-5, "\(cell) output")
        assertClose(fused.h, h, atol: 1e-5, "\(cell) h_T")
        if let c { assertClose(fused.c!, c, atol: 1e-5, "\(cell) c_T") }

        // One random projection of all outputs, backward through both versions.
        var g = RandomGenerator(seed: 7)
        let pOut = Tensor.rand(out.shape, low: -1, high: 1, generator: &g), pH = Tensor.rand(h.shape, low: -1, high: 1, generator: &g)
        let pC = Tensor.rand([Self.B, H], low: -1, high: 1, generator: &g)
        func loss(_ o: Tensor, _ h: Tensor, _ c: Tensor?) throws -> Tensor {
            var l = try (o * pOut).sum() + (h * pH).sum()
            if let c { l = try l + (c * pC).sum() }
            return l
        }
        try loss(fused.output, fused.h, fused.c).backward()
        try loss(out, h, c).backward()
        let names = ["x", "h0", "c0", "weight_ih", "weight_hh", "bias_ih", "bias_hh"]
        for k in 0..<7 where !(k == 2 && cell != .lstm) {
            assertClose(a[k].grad!, b[k].grad!, atol: 1e-5, rtol: 1e-4, "\(cell) gradient of \(names[k])")
        }
    }

    @Test(arguments: [(17, 1), (34, 2)])
    func lstmMatchesUnrolledCell(hidden: Int, threads: Int) throws { try compare(.lstm, hidden: hidden, threads: threads) }
    @Test(arguments: [(17, 1), (34, 2)])
    func gruMatchesUnrolledCell(hidden: Int, threads: Int) throws { try compare(.gru, hidden: hidden, threads: threads) }
    @Test(arguments: [(17, 1), (34, 2)])
    func rnnMatchesUnrolledCell(hidden: Int, threads: Int) throws { try compare(.rnnTanh, hidden: hidden, threads: threads) }

    @Test func twoThreadsMatchOneOnAW4SizedLayer() throws {
        // The sizes where `threads: nil` picks two slices: same results either way.
        let x = Fixtures.uniform([4, 3, 8], seed: 200), w1 = Fixtures.uniform([1024, 8], -0.06, 0.06, seed: 201)
        let w2 = Fixtures.uniform([1024, 256], -0.06, 0.06, seed: 202), b = Fixtures.uniform([1024], -0.06, 0.06, seed: 203)
        var outs: [[Float]] = [], grads: [[[Float]]] = []
        for threads in [1, 2] {
            for t in [x, w1, w2, b] { t.grad = nil }
            let r = try Tensor.recurrentLayer(.lstm, input: x, weightIH: w1, weightHH: w2, biasIH: b, biasHH: nil, threads: threads)
            try (r.output.square().sum() + r.c!.sum()).backward()
            outs.append(r.output.scalars)
            grads.append([x, w1, w2, b].map { $0.grad!.scalars })
        }
        assertClose(outs[1], outs[0], atol: 1e-6)
        for (g2, g1) in zip(grads[1], grads[0]) { assertClose(g2, g1, atol: 1e-5) }
    }
}
