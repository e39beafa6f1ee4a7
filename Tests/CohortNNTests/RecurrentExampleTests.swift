// The code of examples/char-lstm/README.md, compiled and run (fewer training
// steps), so the example cannot drift from the API.
import CohortNN
import CohortOptim
import CohortTensor
import Testing

@Suite struct RecurrentExampleTests {
    @Test func readmeCharModel() throws {
        let text = Array("hello cohort, hello lstm. ")
        let vocab = Array(Set(text)).sorted()
        let ids = text.map { vocab.firstIndex(of: $0)! }

        var g = RandomGenerator(seed: 0)
        let model = try CharLSTM(vocabularySize: vocab.count, embeddingDim: 16, hidden: 64, generator: &g)
        let arena = ParameterArena(model)
        let optimizer = Adam(arena, lr: 0.01)

        let inputs = Array(ids.dropLast()), targets = Array(ids.dropFirst())
        var first: Float?, last: Float = 0
        for _ in 0..<20 {
            optimizer.zeroGrad()
            let (logits, _) = try model.forward(indices: inputs, batch: 1, steps: inputs.count)
            let loss = try Loss.crossEntropy(try logits.reshape([inputs.count, vocab.count]), targets)
            try loss.backward()
            optimizer.step()
            last = try loss.item()
            if first == nil { first = last }
        }
        #expect(last < first!)

        var state: LSTMState? = nil
        var logits = try model.step([ids[0]], state: &state)
        var out = [ids[0]]
        for _ in 0..<20 {
            let p = logits.scalars
            let next = p.indices.max { p[$0] < p[$1] }!
            out.append(next)
            logits = try model.step([next], state: &state)
        }
        #expect(out.count == 21)
        let sampled = try model.sample(prompt: [ids[0]], count: 20, temperature: 0.8, generator: &g)
        #expect(sampled.count == 20 && sampled.allSatisfy { $0 >= 0 && $0 < vocab.count })
    }

    @Test func readmeLayers() throws {
        var g = RandomGenerator(seed: 1)
        let emb = Embedding(65, 32, generator: &g)
        let x = try emb.forward(indices: [3, 7, 7, 1, 0, 2], shape: [2, 3])
        #expect(x.shape == [2, 3, 32])

        let lstm = try LSTM(inputSize: 32, hiddenSize: 64, layers: 2, generator: &g)
        let (y, s) = try lstm.forward(x, state: nil)
        let (y2, _) = try lstm.forward(x, state: s.detached())
        #expect(y.shape == [2, 3, 64] && s.h.shape == [2, 2, 64] && s.c.shape == [2, 2, 64] && y2.shape == y.shape)

        let gru = try GRU(inputSize: 32, hiddenSize: 64, generator: &g)
        let (z, hN) = try gru.forward(x, h0: nil)
        #expect(z.shape == [2, 3, 64] && hN.shape == [1, 2, 64])
        let rnn = try RNN(inputSize: 32, hiddenSize: 64, generator: &g)
        #expect(try rnn(x).shape == [2, 3, 64])
    }
}
