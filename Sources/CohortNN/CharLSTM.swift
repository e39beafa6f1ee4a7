// The character-level LSTM language model (benchmark W4 at its defaults):
// Embedding(vocab, 64) → LSTM(64 → 256) → Linear(256 → vocab), trained on
// [B, T] token ids, plus step-by-step sampling that carries the state between calls.
import CohortCore
import CohortTensor
#if canImport(Glibc)
import Glibc
#endif

/// Character-level LSTM language model: `embedding` → `lstm` → `head`.
///
/// Parameters are named `embedding.weight`, `lstm.weight_ih_l0`, …, `head.weight`, `head.bias`.
/// With `tieWeights` (needs `hidden == embeddingDim`) the head reuses the embedding table
/// and only adds a bias.
public final class CharLSTM: Module {
    public let embedding: Embedding
    public let lstm: LSTM
    /// The output projection; nil when the head is tied to the embedding.
    public let head: Linear?
    /// Bias of a tied head `[vocab]`.
    public let tiedBias: Tensor?
    public var isTraining = true
    public let vocabularySize: Int

    /// W4's model by default: vocab 65, embedding 64, one LSTM layer of 256.
    /// - Throws: `CohortError.invalidArgument` for sizes below 1 or a tie with `hidden != embeddingDim`.
    public init(vocabularySize: Int = 65, embeddingDim: Int = 64, hidden: Int = 256, layers: Int = 1,
                tieWeights: Bool = false, generator: inout RandomGenerator) throws {
        guard vocabularySize >= 1, embeddingDim >= 1 else {
            throw CohortError.invalidArgument("CharLSTM: vocabularySize and embeddingDim must be ≥ 1, got \(vocabularySize), \(embeddingDim)")
        }
        if tieWeights && hidden != embeddingDim {
            throw CohortError.invalidArgument("CharLSTM: tying the head to the embedding needs hidden == embeddingDim, got \(hidden) and \(embeddingDim)")
        }
        self.vocabularySize = vocabularySize
        embedding = Embedding(vocabularySize, embeddingDim, generator: &generator)
        lstm = try LSTM(inputSize: embeddingDim, hiddenSize: hidden, layers: layers, generator: &generator)
        if tieWeights {
            head = nil
            tiedBias = parameter(Tensor.zeros([vocabularySize]))
        } else {
            head = Linear(hidden, vocabularySize, generator: &generator)
            tiedBias = nil
        }
    }

    public var children: [(name: String, module: any Module)] {
        var c: [(name: String, module: any Module)] = [("embedding", embedding), ("lstm", lstm)]
        if let head { c.append(("head", head)) }
        return c
    }

    public var localParameters: [(name: String, tensor: Tensor)] { tiedBias.map { [("head_bias", $0)] } ?? [] }

    /// Token ids `[B, T]` (integer values as floats) → logits `[B, T, vocab]`.
    public func forward(_ tokens: Tensor) throws -> Tensor { try forward(tokens, state: nil).logits }

    /// Token ids `[B, T]` and an initial state (nil: zeros) → logits `[B, T, vocab]` and the final state.
    /// - Throws: `CohortError.shapeMismatch` for ids that are not `[B, T]`; `invalidArgument` for a bad id.
    public func forward(_ tokens: Tensor, state: LSTMState?) throws -> (logits: Tensor, state: LSTMState) {
        guard tokens.rank == 2 else {
            throw CohortError.shapeMismatch(op: "CharLSTM", "token ids must be [batch, steps], got \(describeShape(tokens.shape))")
        }
        return try run(try embedding(tokens), state: state)
    }

    /// Integer token ids of shape `[batch, steps]` (row-major) → logits `[batch, steps, vocab]` and the final state.
    ///
    /// When the vocabulary is smaller than the batch's token count, the embedding lookup is
    /// fused into the LSTM's first layer (`LSTM.forward(tokens:…)`): same values and gradients,
    /// a third fewer FLOPs in that layer at W4's sizes.
    public func forward(indices: [Int], batch: Int, steps: Int, state: LSTMState? = nil) throws -> (logits: Tensor, state: LSTMState) {
        guard vocabularySize < batch * steps else {
            return try run(try embedding.forward(indices: indices, shape: [batch, steps]), state: state)
        }
        let (h, s) = try lstm.forward(tokens: indices, batch: batch, steps: steps, embedding: embedding.weight, state: state)
        return (try project(h), s)
    }

    func run(_ x: Tensor, state: LSTMState?) throws -> (logits: Tensor, state: LSTMState) {
        let (h, s) = try lstm.forward(x, state: state)
        return (try project(h), s)
    }

    func project(_ h: Tensor) throws -> Tensor {
        if let head { return try head(h) }
        return try Tensor.linear(h, weight: embedding.weight, bias: tiedBias)
    }

    /// One generation step without recording gradients: feeds one token per sequence
    /// (`tokens.count` = batch) and returns the next-token logits `[batch, vocab]`.
    /// `state` (nil at the start) is updated in place, so consecutive calls continue the sequences.
    public func step(_ tokens: [Int], state: inout LSTMState?) throws -> Tensor {
        try withNoGrad {
            let (logits, next) = try forward(indices: tokens, batch: tokens.count, steps: 1, state: state)
            state = next
            return try logits.reshape([tokens.count, vocabularySize])
        }
    }

    /// Generates `count` tokens after `prompt` (at least one token), sampling from
    /// softmax(logits / temperature); temperature 0 picks the most likely token.
    /// - Throws: `CohortError.invalidArgument` for an empty prompt or a negative temperature.
    public func sample(prompt: [Int], count: Int, temperature: Float = 1, generator: inout RandomGenerator) throws -> [Int] {
        guard !prompt.isEmpty else { throw CohortError.invalidArgument("CharLSTM.sample: the prompt needs at least one token") }
        guard temperature >= 0 else { throw CohortError.invalidArgument("CharLSTM.sample: temperature must be ≥ 0, got \(temperature)") }
        var state: LSTMState?
        var logits = try withNoGrad {
            let (l, s) = try forward(indices: prompt, batch: 1, steps: prompt.count, state: nil)
            state = s
            return try l.slice(axis: 1, prompt.count - 1, prompt.count).reshape([vocabularySize])
        }
        var out: [Int] = []
        for _ in 0..<count {
            let next = CharLSTM.draw(logits.scalars, temperature: temperature, generator: &generator)
            out.append(next)
            logits = try step([next], state: &state).reshape([vocabularySize])
        }
        return out
    }

    static func draw(_ logits: [Float], temperature: Float, generator: inout RandomGenerator) -> Int {
        if temperature == 0 { return logits.indices.max { logits[$0] < logits[$1] } ?? 0 }
        let m = logits.max() ?? 0
        let w = logits.map { exp(Double(($0 - m) / temperature)) }
        var u = generator.nextDouble() * w.reduce(0, +)
        for (i, x) in w.enumerated() { u -= x; if u < 0 { return i } }
        return w.count - 1
    }
}

