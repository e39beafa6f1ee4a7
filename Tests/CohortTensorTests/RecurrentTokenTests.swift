// The recurrent layer with the embedding lookup fused in (token ids + table):
// the same values and gradients as the lookup followed by the layer, on one and
// two threads; a finite-difference check; errors for bad ids.
import CohortCore
import CohortKernels
@testable import CohortTensor
import CohortTestSupport
import Testing

@Suite struct RecurrentTokenTests {
    static let V = 7, B = 3, T = 4, F = 5
    static let tokens = [1, 6, 6, 0, 3, 3, 2, 5, 0, 1, 4, 6]

    func leaves(_ cell: RecurrentCell, hidden H: Int, seed: UInt64) -> [Tensor] {
        let G = cell.gateCount * H
        return [Fixtures.uniform([Self.V, Self.F], seed: seed), Fixtures.uniform([G, Self.F], -0.5, 0.5, seed: seed + 1),
                Fixtures.uniform([G, H], -0.5, 0.5, seed: seed + 2), Fixtures.uniform([G], -0.5, 0.5, seed: seed + 3),
                Fixtures.uniform([G], -0.5, 0.5, seed: seed + 4), Fixtures.uniform([Self.B, H], seed: seed + 5),
                Fixtures.uniform([Self.B, H], seed: seed + 6)]
    }

    func fused(_ cell: RecurrentCell, _ v: [Tensor], threads: Int) throws -> RecurrentLayerOutput {
        try Tensor.recurrentLayer(cell, tokens: Self.tokens, batch: Self.B, steps: Self.T, embedding: v[0], h0: v[5],
                                  c0: cell == .lstm ? v[6] : nil, weightIH: v[1], weightHH: v[2], biasIH: v[3], biasHH: v[4],
                                  threads: threads)
    }

    func separate(_ cell: RecurrentCell, _ v: [Tensor], threads: Int) throws -> RecurrentLayerOutput {
        let x = try Tensor.embedding(v[0], indices: Self.tokens, shape: [Self.B, Self.T])
        return try Tensor.recurrentLayer(cell, input: x, h0: v[5], c0: cell == .lstm ? v[6] : nil, weightIH: v[1], weightHH: v[2],
                                         biasIH: v[3], biasHH: v[4], threads: threads)
    }

    @Test(arguments: RecurrentCell.allCases, [1, 2])
    func matchesLookupThenLayer(_ cell: RecurrentCell, threads: Int) throws {
        let H = 6
        let a = leaves(cell, hidden: H, seed: 300), b = leaves(cell, hidden: H, seed: 300)
        let ra = try fused(cell, a, threads: threads), rb = try separate(cell, b, threads: 1)
        assertClose(ra.output, rb.output, atol: 1e-5, "\(cell) output")
        var g = RandomGenerator(seed: 9)
        let p = Tensor.rand(rb.output.shape, low: -1, high: 1, generator: &g)
        func loss(_ r: RecurrentLayerOutput) throws -> Tensor {
            var l = try (r.output * p).sum() + r.h.sum()
            if let c = r.c { l = try l + (c * 0.5).sum() }
            return l
        }
        try loss(ra).backward()
        try loss(rb).backward()
        let names = ["table", "weight_ih", "weight_hh", "bias_ih", "bias_hh", "h0", "c0"]
        for k in 0..<7 where !(k == 6 && cell != .lstm) {
            assertClose(a[k].grad!, b[k].grad!, atol: 1e-5, rtol: 1e-4, "\(cell), \(threads) thread(s): gradient of \(names[k])")
        }
    }

    @Test(arguments: RecurrentCell.allCases)
    func gradcheckThroughTheTable(_ cell: RecurrentCell) throws {
        let v = leaves(cell, hidden: 4, seed: 400)
        let used = cell == .lstm ? v : Array(v.prefix(6))
        try expectGradients(used, "\(cell) from tokens") { w in
            let r = try Tensor.recurrentLayer(cell, tokens: Self.tokens, batch: Self.B, steps: Self.T, embedding: w[0], h0: w[5],
                                              c0: cell == .lstm ? w[6] : nil, weightIH: w[1], weightHH: w[2],
                                              biasIH: w[3], biasHH: w[4])
            return try Tensor.concat([try r.output.reshape([-1]), try (r.c ?? r.h).reshape([-1])])
        }
    }

    @Test func badIdsAndShapes() throws {
        let v = leaves(.lstm, hidden: 4, seed: 500)
        do {
            _ = try Tensor.recurrentLayer(.lstm, tokens: [0, 1, 9, 2], batch: 2, steps: 2, embedding: v[0],
                                          weightIH: v[1], weightHH: v[2], biasIH: nil, biasHH: nil)
            Issue.record("expected an error")
        } catch let e as CohortError {
            #expect("\(e)".contains("id 9") && "\(e)".contains("[1, 0]") && "\(e)".contains("vocabulary size 7"), "\(e)")
        }
        #expect(throws: CohortError.self) {
            try Tensor.recurrentLayer(.lstm, tokens: [0, 1, 2], batch: 2, steps: 2, embedding: v[0],
                                      weightIH: v[1], weightHH: v[2], biasIH: nil, biasHH: nil)
        }
        #expect(throws: CohortError.self) {
            try Tensor.recurrentLayer(.lstm, tokens: [0, 1], batch: 1, steps: 2, embedding: Tensor.zeros([7, 3]),
                                      weightIH: v[1], weightHH: v[2], biasIH: nil, biasHH: nil)
        }
    }
}
