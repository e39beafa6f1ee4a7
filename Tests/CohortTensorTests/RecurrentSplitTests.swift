// The two ways a recurrent layer shares its work between two threads (batch rows,
// each thread running the whole time loop for its rows; hidden units, a barrier
// per step) against one thread: the same values and gradients within float
// tolerance for batches of 1, 3 and 33, features or token ids; and a run on a
// fixed thread count repeats bit for bit, which `--deterministic` relies on.
import CohortKernels
@testable import CohortTensor
import CohortTestSupport
import Testing

@Suite struct RecurrentSplitTests {
    static let T = 5, F = 7, H = 34, V = 11

    /// Output, h_T, c_T (LSTM) and the gradient of every leaf after one backward of a
    /// random projection of all three.
    func run(_ cell: RecurrentCell, batch B: Int, tokens: Bool, threads: Int, split: RecurrentSplit?) throws -> [[Float]] {
        let (T, F, H, G) = (Self.T, Self.F, Self.H, cell.gateCount * Self.H)
        let x = tokens ? Fixtures.uniform([Self.V, F], seed: 500) : Fixtures.uniform([B, T, F], seed: 500)
        var leaves = [x, Fixtures.uniform([G, F], -0.4, 0.4, seed: 501), Fixtures.uniform([G, H], -0.4, 0.4, seed: 502),
                      Fixtures.uniform([G], -0.4, 0.4, seed: 503), Fixtures.uniform([G], -0.4, 0.4, seed: 504),
                      Fixtures.uniform([B, H], seed: 505)]
        if cell == .lstm { leaves.append(Fixtures.uniform([B, H], seed: 506)) }
        let c0 = cell == .lstm ? leaves[6] : nil
        let source: Tensor.RecurrentSource
        if tokens {
            let ids = (0..<(B * T)).map { Int32(($0 * 7 + $0 / 3) % Self.V) }
            source = .tokens(ids, x)
        } else {
            source = .features(x)
        }
        let r = try Tensor.recurrent(cell, source, batch: B, steps: T, h0: leaves[5], c0: c0, weightIH: leaves[1],
                                     weightHH: leaves[2], biasIH: leaves[3], biasHH: leaves[4], threads: threads, split: split)
        var g = RandomGenerator(seed: 11)
        var loss = try (r.output * Tensor.rand(r.output.shape, low: -1, high: 1, generator: &g)).sum()
        loss = try loss + (r.h * Tensor.rand([B, H], low: -1, high: 1, generator: &g)).sum()
        if let c = r.c { loss = try loss + (c * Tensor.rand([B, H], low: -1, high: 1, generator: &g)).sum() }
        try loss.backward()
        return [r.output.scalars, r.h.scalars, r.c?.scalars ?? []] + leaves.map { $0.grad!.scalars }
    }

    static let cases: [(RecurrentCell, Int, Bool)] = RecurrentCell.allCases.flatMap { cell in
        [1, 3, 33].flatMap { b in [(cell, b, false), (cell, b, true)] }
    }

    @Test(arguments: cases)
    func batchSplitMatchesOneThread(_ cell: RecurrentCell, batch: Int, tokens: Bool) throws {
        let one = try run(cell, batch: batch, tokens: tokens, threads: 1, split: nil)
        let two = try run(cell, batch: batch, tokens: tokens, threads: 2, split: .batch)
        for (k, (a, b)) in zip(two, one).enumerated() {
            assertClose(a, b, atol: 1e-5, rtol: 1e-4, "\(cell), batch \(batch), tokens \(tokens): value \(k)")
        }
    }

    @Test(arguments: [(RecurrentCell.lstm, 3), (.gru, 1), (.rnnTanh, 33)])
    func hiddenSplitMatchesOneThread(_ cell: RecurrentCell, batch: Int) throws {
        let one = try run(cell, batch: batch, tokens: false, threads: 1, split: nil)
        let two = try run(cell, batch: batch, tokens: false, threads: 2, split: .hidden)
        for (k, (a, b)) in zip(two, one).enumerated() {
            assertClose(a, b, atol: 1e-5, rtol: 1e-4, "\(cell), batch \(batch): value \(k)")
        }
    }

    @Test func theSplitFollowsTheBatch() {
        let d = { (b: Int) in RecurrentDims(cell: .lstm, batch: b, steps: 4, input: 3, hidden: 6) }
        #expect(RecurrentPlan(d(2), threads: 2).parts == 2)
        #expect(RecurrentPlan(d(2), threads: 2).slices == 1)
        #expect(RecurrentPlan(d(1), threads: 2).slices == 2)
        #expect(RecurrentPlan(d(1), threads: 2).parts == 1)
        #expect(RecurrentPlan(d(33), threads: 1).parts == 1)
        #expect(RecurrentPlan(d(33), threads: 2, split: .hidden).slices == 2)
    }

    @Test(arguments: [(RecurrentCell.lstm, true), (.lstm, false), (.gru, true)])
    func twoThreadRunsRepeatBitForBit(_ cell: RecurrentCell, tokens: Bool) throws {
        // OpenBLAS's thread count is process-wide and other suites change it meanwhile; a
        // GEMM split over another thread count may round differently, so pin it at one.
        // The layer's own two threads are what this test repeats.
        let a = try BLAS.singleThreaded { try run(cell, batch: 33, tokens: tokens, threads: 2, split: .batch) }
        for _ in 0..<3 {
            let b = try BLAS.singleThreaded { try run(cell, batch: 33, tokens: tokens, threads: 2, split: .batch) }
            for (k, (u, v)) in zip(a, b).enumerated() {
                #expect(u.map(\.bitPattern) == v.map(\.bitPattern), "\(cell), tokens \(tokens): value \(k) differs between runs")
            }
        }
    }
}
