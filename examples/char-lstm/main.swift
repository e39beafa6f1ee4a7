// The character-LSTM walkthrough of examples/char-lstm/README.md as a program:
// a CharLSTM learns a short string and samples it back; then the recurrent layers
// on their own with the shapes the README states. Exits non-zero if a check fails.
// Run: swift run -c release CharLSTMExample
import Cohort
import Foundation

func check(_ ok: Bool, _ what: String) {
    if !ok { FileHandle.standardError.write(Data("CharLSTMExample: check failed: \(what)\n".utf8)); exit(1) }
}

// Train and sample a CharLSTM.
let text = Array("hello cohort, hello lstm. ")
let vocab = Array(Set(text)).sorted()
let ids = text.map { vocab.firstIndex(of: $0)! }

var g = RandomGenerator(seed: 0)
// Embedding(vocab, 16) → LSTM(16 → 64) → Linear(64 → vocab)
let model = try CharLSTM(vocabularySize: vocab.count, embeddingDim: 16, hidden: 64, generator: &g)
let arena = ParameterArena(model)            // parameters and gradients in flat buffers
let optimizer = Adam(arena, lr: 0.01)

let inputs = Array(ids.dropLast()), targets = Array(ids.dropFirst())
var firstLoss: Float = 0, lastLoss: Float = 0
for step in 0..<200 {
    optimizer.zeroGrad()
    // [batch, steps] token ids → logits [batch, steps, vocab]
    let (logits, _) = try model.forward(indices: inputs, batch: 1, steps: inputs.count)
    let loss = try Loss.crossEntropy(try logits.reshape([inputs.count, vocab.count]), targets)
    try loss.backward()
    optimizer.step()
    if step == 0 { firstLoss = loss.scalars[0] }
    lastLoss = loss.scalars[0]
}
print("loss \(firstLoss) → \(lastLoss)")
check(lastLoss < 0.2 * firstLoss, "the loss fell from \(firstLoss) to \(lastLoss) only")

// Generation: the LSTM state is carried between calls.
var state: LSTMState? = nil
var logits = try model.step([ids[0]], state: &state)          // [1, vocab]
var out = [ids[0]]
for _ in 0..<20 {
    let p = logits.scalars
    let next = p.indices.max { p[$0] < p[$1] }!
    out.append(next)
    logits = try model.step([next], state: &state)
}
let sample = String(out.map { vocab[$0] })
print("greedy sample: \(sample)")
check(sample.hasPrefix("hello co"), "the greedy sample '\(sample)' does not continue the training string")

// The layers on their own.
var g1 = RandomGenerator(seed: 1)
let emb = Embedding(65, 32, generator: &g1)                    // weight [65, 32], N(0, 1)
let x = try emb.forward(indices: [3, 7, 7, 1, 0, 2], shape: [2, 3])   // [2, 3, 32]
let lstm = try LSTM(inputSize: 32, hiddenSize: 64, layers: 2, generator: &g1)
let (y, s) = try lstm.forward(x, state: nil)                  // y [2, 3, 64]; s.h, s.c [2, 2, 64]
let (y2, _) = try lstm.forward(x, state: s.detached())        // continue (truncated BPTT)
let gru = try GRU(inputSize: 32, hiddenSize: 64, generator: &g1)
let (z, hN) = try gru.forward(x, h0: nil)                     // z [2, 3, 64], hN [1, 2, 64]
check(x.shape == [2, 3, 32] && y.shape == [2, 3, 64] && y2.shape == [2, 3, 64], "embedding/LSTM shapes")
check(s.h.shape == [2, 2, 64] && s.c.shape == [2, 2, 64], "LSTM state shapes")
check(z.shape == [2, 3, 64] && hN.shape == [1, 2, 64], "GRU shapes")
print("layers: embedding \(x.shape), LSTM \(y.shape) state \(s.h.shape), GRU \(z.shape) \(hN.shape)")
print("CharLSTMExample: ok")
