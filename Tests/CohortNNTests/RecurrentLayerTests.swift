// RNN, LSTM, GRU and CharLSTM as modules: PyTorch parameter names, shapes and
// init bounds; finite-difference checks of 2-layer stacks through time with
// and without initial states; weight tying; step-by-step sampling matching the
// full-sequence forward; a tiny char model overfitting a short string.
import CohortCore
import CohortKernels
@testable import CohortNN
import CohortOptim
import CohortTensor
import CohortTestSupport
import Testing

@Suite struct RecurrentLayerTests {
    @Test func pytorchNamesShapesAndInitBounds() throws {
        var g = RandomGenerator(seed: 1)
        let lstm = try LSTM(inputSize: 3, hiddenSize: 5, layers: 2, generator: &g)
        #expect(lstm.namedParameters().map(\.name) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                                       "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"])
        #expect(lstm.parameters().map(\.shape) == [[20, 3], [20, 5], [20], [20], [20, 5], [20, 5], [20], [20]])
        let bound = 1 / Float(5).squareRoot()
        for p in lstm.parameters() { #expect(p.scalars.allSatisfy { abs($0) <= bound }) }
        let gru = try GRU(inputSize: 3, hiddenSize: 5, bias: false, generator: &g)
        #expect(gru.namedParameters().map(\.name) == ["weight_ih_l0", "weight_hh_l0"])
        #expect(gru.parameters().map(\.shape) == [[15, 3], [15, 5]])
        let rnn = try RNN(inputSize: 3, hiddenSize: 5, generator: &g)
        #expect(rnn.parameters().map(\.shape) == [[5, 3], [5, 5], [5], [5]])
        #expect(throws: CohortError.self) { try LSTM(inputSize: 3, hiddenSize: 0, generator: &g) }
    }

    /// Two layers, T = 3: output, final h (and c) through one projection.
    @Test(arguments: [RecurrentCell.rnnTanh, .lstm, .gru], [false, true])
    func twoLayerGradcheck(_ cell: RecurrentCell, _ withState: Bool) throws {
        var g = RandomGenerator(seed: 2)
        let (B, T, F, H, L) = (2, 3, 3, 3, 2)
        let x = Fixtures.uniform([B, T, F], seed: 3)
        let h0 = Fixtures.uniform([L, B, H], seed: 4), c0 = Fixtures.uniform([L, B, H], seed: 5)
        var leaves = [x]
        if withState { leaves.append(h0); if cell == .lstm { leaves.append(c0) } }
        func flat(_ ts: [Tensor?]) throws -> Tensor { try Tensor.concat(ts.compactMap { $0 }.map { try $0.reshape([-1]) }) }
        let body: () throws -> Tensor
        switch cell {
        case .lstm:
            let m = try LSTM(inputSize: F, hiddenSize: H, layers: L, generator: &g)
            leaves += m.parameters()
            body = {
                let (o, s) = try m.forward(x, state: withState ? LSTMState(h: h0, c: c0) : nil)
                return try flat([o, s.h, s.c])
            }
        case .gru:
            let m = try GRU(inputSize: F, hiddenSize: H, layers: L, generator: &g)
            leaves += m.parameters()
            body = { let (o, h) = try m.forward(x, h0: withState ? h0 : nil); return try flat([o, h]) }
        case .rnnTanh:
            let m = try RNN(inputSize: F, hiddenSize: H, layers: L, generator: &g)
            leaves += m.parameters()
            body = { let (o, h) = try m.forward(x, h0: withState ? h0 : nil); return try flat([o, h]) }
        }
        try expectGradients(leaves, "\(cell) 2 layers, initial state \(withState)") { _ in try body() }
    }

    @Test func stateShapesAndErrors() throws {
        var g = RandomGenerator(seed: 6)
        let m = try LSTM(inputSize: 4, hiddenSize: 6, layers: 2, generator: &g)
        let (o, s) = try m.forward(Tensor.zeros([3, 5, 4]), state: nil)
        #expect(o.shape == [3, 5, 6] && s.h.shape == [2, 3, 6] && s.c.shape == [2, 3, 6])
        #expect(try m(Tensor.zeros([3, 5, 4])).shape == [3, 5, 6])
        do {
            _ = try m.forward(Tensor.zeros([3, 5, 7]), state: nil)
            Issue.record("expected an error")
        } catch let e as CohortError { #expect("\(e)".contains("[3, 5, 7]")) }
        do {
            _ = try m.forward(Tensor.zeros([3, 5, 4]), state: LSTMState(h: Tensor.zeros([1, 3, 6]), c: Tensor.zeros([2, 3, 6])))
            Issue.record("expected an error")
        } catch let e as CohortError { #expect("\(e)".contains("[2, 3, 6]") && "\(e)".contains("[1, 3, 6]")) }
    }

    @Test func chunkedSequenceWithCarriedStateMatchesWholeSequence() throws {
        var g = RandomGenerator(seed: 7)
        let m = try GRU(inputSize: 2, hiddenSize: 5, layers: 2, generator: &g)
        let x = Fixtures.uniform([2, 6, 2], seed: 8, requiresGrad: false)
        let (whole, hWhole) = try m.forward(x, h0: nil)
        let (first, h1) = try m.forward(try x.slice(axis: 1, 0, 4), h0: nil)
        let (second, h2) = try m.forward(try x.slice(axis: 1, 4, 6), h0: h1)
        assertClose(try Tensor.concat([first, second], axis: 1), whole, atol: 1e-6)
        assertClose(h2, hWhole, atol: 1e-6)
    }

    @Test func weightTyingListsTheSharedTensorOnceAndSumsBothGradients() throws {
        var g = RandomGenerator(seed: 9)
        let model = try CharLSTM(vocabularySize: 7, embeddingDim: 4, hidden: 4, tieWeights: true, generator: &g)
        let names = model.namedParameters().map(\.name)
        #expect(names == ["head_bias", "embedding.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0"])
        let shared = try Embedding(sharing: model.embedding.weight)
        #expect(shared.weight === model.embedding.weight)
        let leaves = model.parameters()
        try expectGradients(leaves, "tied char model") { _ in
            try model.forward(indices: [1, 6, 2, 2, 0, 5], batch: 2, steps: 3).logits
        }
        #expect(throws: CohortError.self) { try CharLSTM(vocabularySize: 7, embeddingDim: 4, hidden: 5, tieWeights: true, generator: &g) }
    }

    @Test func stepwiseSamplingMatchesFullForward() throws {
        var g = RandomGenerator(seed: 10)
        let model = try CharLSTM(vocabularySize: 11, embeddingDim: 6, hidden: 9, layers: 2, generator: &g)
        let seqs = [[1, 4, 4, 9, 0], [3, 3, 10, 2, 7]]
        let (full, _) = try model.forward(indices: seqs.flatMap { $0 }, batch: 2, steps: 5)
        var state: LSTMState?
        for t in 0..<5 {
            let logits = try model.step([seqs[0][t], seqs[1][t]], state: &state)
            assertClose(logits, try full.slice(axis: 1, t, t + 1).reshape([2, 11]), atol: 1e-5, "step \(t)")
        }
        #expect(!(state?.h.requiresGrad ?? true))
    }

    @Test func charModelFusedLookupMatchesSeparateLookup() throws {
        // 2 × 6 tokens > vocabulary 5: `forward(indices:)` fuses the lookup into the LSTM.
        var g = RandomGenerator(seed: 13)
        let model = try CharLSTM(vocabularySize: 5, embeddingDim: 3, hidden: 4, layers: 2, generator: &g)
        let ids = [0, 4, 4, 1, 2, 3, 3, 3, 0, 1, 4, 2]
        let (fused, _) = try model.forward(indices: ids, batch: 2, steps: 6)
        try fused.square().sum().backward()
        let fusedGrads = model.parameters().map { $0.grad!.scalars }
        model.zeroGrad()
        let separate = try model(try Tensor(ids.map(Float.init), shape: [2, 6]))
        try separate.square().sum().backward()
        assertClose(fused, separate, atol: 1e-5)
        for ((name, p), f) in zip(model.namedParameters(), fusedGrads) { assertClose(f, p.grad!.scalars, atol: 1e-5, "\(name)") }
    }

    @Test func tinyCharModelOverfitsAString() throws {
        let text = Array("hello cohort, hello lstm.")
        let vocab = Array(Set(text)).sorted()
        let ids = text.map { vocab.firstIndex(of: $0)! }
        var g = RandomGenerator(seed: 11)
        let model = try CharLSTM(vocabularySize: vocab.count, embeddingDim: 8, hidden: 32, generator: &g)
        let arena = ParameterArena(model)
        let opt = Adam(arena, lr: 0.03)
        let inputs = Array(ids.dropLast()), targets = Array(ids.dropFirst())
        var loss: Float = .infinity
        for _ in 0..<150 {
            opt.zeroGrad()
            let (logits, _) = try model.forward(indices: inputs, batch: 1, steps: inputs.count)
            let l = try Loss.crossEntropy(try logits.reshape([inputs.count, vocab.count]), targets)
            try l.backward()
            opt.step()
            loss = try l.item()
        }
        #expect(loss < 0.05, "final loss \(loss)")
        var sg = RandomGenerator(seed: 12)
        let generated = try model.sample(prompt: [ids[0]], count: ids.count - 1, temperature: 0, generator: &sg)
        #expect(String(generated.map { vocab[$0] }) == String(text.dropFirst()))
    }
}
