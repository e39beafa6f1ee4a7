// Finite-difference checks of the fused recurrent layer op (tanh RNN, LSTM,
// GRU) through time: gradients with respect to the input, both weights, both
// biases and the initial states, reached through the output sequence and the
// final states, with and without initial states.
import CohortCore
import CohortKernels
@testable import CohortTensor
import CohortTestSupport
import Testing

@Suite struct RecurrentGradTests {
    static let B = 2, T = 3, F = 3, H = 4

    /// Leaves for one layer: x, w_ih, w_hh, b_ih, b_hh (+ h0, c0 when asked).
    func leaves(_ cell: RecurrentCell, seed: UInt64, initialState: Bool) -> [Tensor] {
        let G = cell.gateCount * Self.H
        var t = [Fixtures.uniform([Self.B, Self.T, Self.F], seed: seed),
                 Fixtures.uniform([G, Self.F], -0.8, 0.8, seed: seed + 1),
                 Fixtures.uniform([G, Self.H], -0.8, 0.8, seed: seed + 2),
                 Fixtures.uniform([G], -0.5, 0.5, seed: seed + 3),
                 Fixtures.uniform([G], -0.5, 0.5, seed: seed + 4)]
        if initialState {
            t.append(Fixtures.uniform([Self.B, Self.H], seed: seed + 5))
            if cell == .lstm { t.append(Fixtures.uniform([Self.B, Self.H], seed: seed + 6)) }
        }
        return t
    }

    /// Everything the layer returns, flattened into one tensor so one projection checks all paths.
    func run(_ cell: RecurrentCell, _ v: [Tensor], initialState: Bool, threads: Int? = nil) throws -> Tensor {
        let r = try Tensor.recurrentLayer(cell, input: v[0], h0: initialState ? v[5] : nil,
                                          c0: initialState && cell == .lstm ? v[6] : nil,
                                          weightIH: v[1], weightHH: v[2], biasIH: v[3], biasHH: v[4], threads: threads)
        var parts = [try r.output.reshape([-1]), try r.h.reshape([-1])]
        if let c = r.c { parts.append(try c.reshape([-1])) }
        return try Tensor.concat(parts)
    }

    @Test(arguments: RecurrentCell.allCases)
    func throughTimeWithoutInitialState(_ cell: RecurrentCell) throws {
        let v = leaves(cell, seed: 10, initialState: false)
        try expectGradients(v, "\(cell)") { try run(cell, $0, initialState: false) }
    }

    @Test(arguments: RecurrentCell.allCases)
    func throughTimeWithInitialState(_ cell: RecurrentCell) throws {
        let v = leaves(cell, seed: 20, initialState: true)
        try expectGradients(v, "\(cell) with h0/c0") { try run(cell, $0, initialState: true) }
    }

    @Test(arguments: RecurrentCell.allCases)
    func throughTimeOnTwoThreads(_ cell: RecurrentCell) throws {
        // Hidden units split in two slices (2 units each), one barrier per step.
        let v = leaves(cell, seed: 60, initialState: true)
        try expectGradients(v, "\(cell) on two threads") { try run(cell, $0, initialState: true, threads: 2) }
    }

    @Test func noBiasAndNonContiguousInput() throws {
        // A transposed input view ([B, T, F] read from a [T, B, F] buffer) and no biases.
        let base = Fixtures.uniform([Self.T, Self.B, Self.F], seed: 30)
        let wih = Fixtures.uniform([4 * Self.H, Self.F], -0.8, 0.8, seed: 31)
        let whh = Fixtures.uniform([4 * Self.H, Self.H], -0.8, 0.8, seed: 32)
        try expectGradients([base, wih, whh], "lstm, strided input, no bias") {
            try Tensor.recurrentLayer(.lstm, input: try $0[0].transpose(0, 1), weightIH: $0[1], weightHH: $0[2],
                                      biasIH: nil, biasHH: nil).output
        }
    }

    @Test func onlyFinalStateUsed() throws {
        // The loss reads only c_T: the gradient enters through the cell-state tail alone.
        let v = leaves(.lstm, seed: 40, initialState: true)
        try expectGradients(v, "lstm c_T only") {
            try Tensor.recurrentLayer(.lstm, input: $0[0], h0: $0[5], c0: $0[6], weightIH: $0[1], weightHH: $0[2],
                                      biasIH: $0[3], biasHH: $0[4]).c!
        }
    }

    @Test func shapeErrorsNameTheShapes() throws {
        let x = Tensor.zeros([2, 3, 5]), wih = Tensor.zeros([16, 5]), whh = Tensor.zeros([16, 4])
        #expect(throws: CohortError.self) {
            try Tensor.recurrentLayer(.lstm, input: Tensor.zeros([3, 5]), weightIH: wih, weightHH: whh, biasIH: nil, biasHH: nil)
        }
        do {
            _ = try Tensor.recurrentLayer(.lstm, input: x, weightIH: Tensor.zeros([16, 4]), weightHH: whh, biasIH: nil, biasHH: nil)
            Issue.record("expected a shape error")
        } catch let e as CohortError {
            #expect("\(e)".contains("[16, 5]") && "\(e)".contains("[16, 4]"))
        }
        do {
            _ = try Tensor.recurrentLayer(.lstm, input: x, h0: Tensor.zeros([3, 4]), weightIH: wih, weightHH: whh, biasIH: nil, biasHH: nil)
            Issue.record("expected a shape error")
        } catch let e as CohortError {
            #expect("\(e)".contains("h0") && "\(e)".contains("[3, 4]"))
        }
        #expect(throws: CohortError.self) {
            try Tensor.recurrentLayer(.gru, input: x, c0: Tensor.zeros([2, 4]), weightIH: Tensor.zeros([12, 5]),
                                      weightHH: Tensor.zeros([12, 4]), biasIH: nil, biasHH: nil)
        }
    }

    @Test func backwardTwiceWithRetainedGraphAccumulates() throws {
        let v = leaves(.gru, seed: 50, initialState: true)
        let y = try run(.gru, v, initialState: true)
        let seed = Tensor.ones(y.shape)
        try y.backward(seed, retainGraph: true)
        let once = v.map { $0.grad!.scalars }
        try y.backward(seed)
        for (t, g1) in zip(v, once) { assertClose(t.grad!.scalars, g1.map { 2 * $0 }, atol: 1e-5) }
    }
}
