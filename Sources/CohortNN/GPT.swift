// A decoder-only transformer (nanoGPT layout): token + learned position
// embeddings, pre-LayerNorm blocks, a final LayerNorm and an LM head tied to
// the token embedding; plus autoregressive sampling. `GPTConfig.w3` is the
// W3 benchmark model of docs/benchmarks.md (3,208,960 parameters).
import CohortCore
import CohortTensor

/// Sizes of a `GPT`.
public struct GPTConfig: Sendable, Equatable {
    public var vocabSize: Int
    /// Longest sequence the position embedding covers.
    public var contextLength: Int
    public var layers: Int
    public var heads: Int
    public var dModel: Int
    /// Hidden width of the MLP as a multiple of `dModel`.
    public var mlpRatio: Int
    public var layerNormEps: Float

    public init(vocabSize: Int, contextLength: Int, layers: Int, heads: Int, dModel: Int,
                mlpRatio: Int = 4, layerNormEps: Float = 1e-5) {
        self.vocabSize = vocabSize; self.contextLength = contextLength; self.layers = layers
        self.heads = heads; self.dModel = dModel; self.mlpRatio = mlpRatio; self.layerNormEps = layerNormEps
    }

    /// W3: vocab 65, context 128, 4 layers, 4 heads, d_model 256 (3,208,960 parameters).
    public static let w3 = GPTConfig(vocabSize: 65, contextLength: 128, layers: 4, heads: 4, dModel: 256)

    /// Parameters of a GPT of this configuration (the tied head counted once).
    public var parameterCount: Int {
        let d = dModel, h = mlpRatio * d
        let block = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * h + h) + (h * d + d)
        return vocabSize * d + contextLength * d + layers * block + 2 * d
    }
}

/// A GPT language model: token ids `[B, T]` (T ≤ contextLength) → logits `[B, T, vocab]`.
///
/// Parameter names follow nanoGPT: `wte.weight`, `wpe.weight`, `h.N.ln_1.weight`,
/// `h.N.attn.c_attn.weight`, …, `ln_f.bias`. `lm_head.weight` is the same tensor as
/// `wte.weight`, so `namedParameters()` lists it once and it receives gradient from
/// both uses. Initialised like GPT-2/nanoGPT's reference: linear and embedding weights
/// N(0, 0.02²), biases zero, LayerNorms ones/zeros. No dropout.
public final class GPT: Module {
    public let config: GPTConfig
    /// `[vocab, dModel]`, also the LM head's weight.
    public let tokenEmbedding: Tensor
    /// `[contextLength, dModel]`.
    public let positionEmbedding: Tensor
    public let blocks: [TransformerBlock]
    public let finalNorm: LayerNorm
    private let head: TiedHead
    public var isTraining = true
    /// Activation checkpointing of every block (`--checkpoint-activations`): in training each
    /// block keeps only its input and recomputes its activations in backward — the same
    /// loss and gradients for less memory and about one more forward pass of compute.
    public var checkpointActivations: Bool {
        get { blocks.first?.checkpointActivations ?? false }
        set { for b in blocks { b.checkpointActivations = newValue } }
    }

    /// - Throws: `CohortError.invalidArgument` for non-positive sizes or heads not dividing dModel.
    public init(_ config: GPTConfig, generator: inout RandomGenerator) throws {
        guard config.vocabSize > 0, config.contextLength > 0, config.layers >= 0, config.dModel > 0, config.mlpRatio > 0 else {
            throw CohortError.invalidArgument("GPT: sizes must be positive, got \(config)")
        }
        self.config = config
        let d = config.dModel
        tokenEmbedding = parameter(Tensor.randn([config.vocabSize, d], std: 0.02, generator: &generator))
        positionEmbedding = parameter(Tensor.randn([config.contextLength, d], std: 0.02, generator: &generator))
        blocks = try (0..<config.layers).map { _ in
            try TransformerBlock(dModel: d, heads: config.heads, mlpRatio: config.mlpRatio, causal: true,
                                 layerNormEps: config.layerNormEps, generator: &generator)
        }
        finalNorm = LayerNorm(d, eps: config.layerNormEps)
        head = TiedHead(tokenEmbedding)
        for b in blocks {
            for l in [b.attention.qkvProjection, b.attention.outputProjection, b.mlp.fc, b.mlp.proj] {
                try Init.normal(l.weight, std: 0.02, generator: &generator)
                if let bias = l.bias { Init.zeros(bias) }
            }
        }
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        [("wte.weight", tokenEmbedding), ("wpe.weight", positionEmbedding)]
    }

    public var children: [(name: String, module: any Module)] {
        blocks.enumerated().map { ("h.\($0.offset)", $0.element as any Module) } + [("ln_f", finalNorm), ("lm_head", head)]
    }

    /// Logits `[B, T, vocab]` for token ids `[B, T]` given as integer-valued floats.
    /// - Throws: `CohortError` for a bad shape, a non-integer or out-of-range id, or T > contextLength.
    public func forward(_ idx: Tensor) throws -> Tensor {
        guard idx.rank == 2 else {
            throw CohortError.shapeMismatch(op: "GPT", "token ids must be [B, T], got \(describeShape(idx.shape))")
        }
        let ids = try idx.scalars.enumerated().map { i, f -> Int in
            guard f.rounded() == f, f >= 0, f < Float(config.vocabSize) else {
                throw CohortError.invalidArgument("GPT: token id \(f) at position \(i) is not an integer in 0..<\(config.vocabSize)")
            }
            return Int(f)
        }
        return try forward(tokens: ids, batch: idx.shape[0])
    }

    /// Logits `[batch, T, vocab]` for `tokens` (`batch · T` ids, row-major).
    /// - Throws: `CohortError` for an id outside the vocabulary, a count not divisible
    ///   by `batch`, or T > contextLength.
    public func forward(tokens: [Int], batch: Int) throws -> Tensor {
        guard batch > 0, !tokens.isEmpty, tokens.count % batch == 0 else {
            throw CohortError.invalidArgument("GPT: \(tokens.count) tokens do not split into \(batch) sequences")
        }
        let t = tokens.count / batch
        guard t <= config.contextLength else {
            throw CohortError.invalidArgument("GPT: sequence length \(t) exceeds the context length \(config.contextLength)")
        }
        if let i = tokens.firstIndex(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw CohortError.invalidArgument("GPT: token \(tokens[i]) at position \(i) is outside the vocabulary 0..<\(config.vocabSize)")
        }
        var x = try embedTokens(tokens).reshape([batch, t, config.dModel])
        x = try x + positionEmbedding.slice(axis: 0, 0, t)
        for b in blocks { x = try b(x) }
        return try head(finalNorm(x))
    }

    /// Mean cross-entropy of next-token prediction: `tokens` and `targets` are `batch · T`
    /// ids, row-major; `targets[i]` is the token that should follow position `i`. The logits
    /// are private here, so the loss reuses their buffer (`crossEntropy(consuming:)`).
    public func loss(tokens: [Int], targets: [Int], batch: Int) throws -> Tensor {
        let logits = try forward(tokens: tokens, batch: batch)
        return try Tensor.crossEntropy(consuming: logits.reshape([-1, config.vocabSize]), targets: targets)
    }

    /// Rows of the token embedding for `ids`, `[ids.count, dModel]`. `Tensor.embedding`'s
    /// backward adds the rows' gradients straight into the table's gradient (its arena view),
    /// without a dense `[vocab, dModel]` temporary.
    private func embedTokens(_ ids: [Int]) throws -> Tensor {
        try Tensor.embedding(tokenEmbedding, indices: ids, shape: [ids.count])
    }

    /// Extends `prompt` by `maxNewTokens` sampled tokens and returns the whole sequence.
    ///
    /// Each step runs the model on the last `contextLength` tokens (no KV cache) in
    /// evaluation mode without recording a graph, and samples from the last position's
    /// logits with `GPT.sample`. The module's training mode is restored afterwards.
    /// - Throws: `CohortError.invalidArgument` for an empty prompt, a token outside the
    ///   vocabulary, negative `maxNewTokens` or `temperature`, or `topK < 1`.
    public func generate(prompt: [Int], maxNewTokens: Int, temperature: Float = 1, topK: Int? = nil,
                         generator: inout RandomGenerator) throws -> [Int] {
        guard !prompt.isEmpty else { throw CohortError.invalidArgument("generate: the prompt is empty") }
        guard maxNewTokens >= 0 else { throw CohortError.invalidArgument("generate: maxNewTokens must be ≥ 0, got \(maxNewTokens)") }
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        var sequence = prompt
        try withNoGrad {
            for _ in 0..<maxNewTokens {
                let window = Array(sequence.suffix(config.contextLength))
                let logits = try forward(tokens: window, batch: 1)
                let v = config.vocabSize
                let last = logits.withContiguousBuffer { Array(UnsafeBufferPointer(start: $0 + (window.count - 1) * v, count: v)) }
                sequence.append(try GPT.sample(logits: last, temperature: temperature, topK: topK, generator: &generator))
            }
        }
        return sequence
    }

    /// Draws a token from `logits`: temperature 0 picks the (first) largest; otherwise
    /// samples from softmax(logits / temperature) restricted to the `topK` largest
    /// (ties with the k-th largest are kept).
    /// - Throws: `CohortError.invalidArgument` for empty logits, a negative temperature or `topK < 1`.
    public static func sample(logits: [Float], temperature: Float, topK: Int?, generator: inout RandomGenerator) throws -> Int {
        guard !logits.isEmpty else { throw CohortError.invalidArgument("sample: no logits") }
        guard temperature >= 0 else { throw CohortError.invalidArgument("sample: temperature must be ≥ 0, got \(temperature)") }
        if let topK, topK < 1 { throw CohortError.invalidArgument("sample: topK must be ≥ 1, got \(topK)") }
        if temperature == 0 {
            var best = 0
            for (i, l) in logits.enumerated() where l > logits[best] { best = i }
            return best
        }
        var cutoff = -Float.infinity
        if let topK, topK < logits.count { cutoff = logits.sorted(by: >)[topK - 1] }
        let m = Double(logits.max()!)
        let weights = logits.map { $0 >= cutoff ? libmExp((Double($0) - m) / Double(temperature)) : 0 }
        let total = weights.reduce(0, +)
        var u = generator.nextDouble() * total
        for (i, w) in weights.enumerated() where w > 0 {
            u -= w
            if u < 0 { return i }
        }
        return weights.lastIndex(where: { $0 > 0 }) ?? 0
    }
}

/// The LM head: `x Wᵀ` with `W` the token embedding itself (no bias).
private final class TiedHead: Module {
    let weight: Tensor
    var isTraining = true
    init(_ weight: Tensor) { self.weight = weight }
    var localParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }
    func forward(_ x: Tensor) throws -> Tensor { try Tensor.linear(x, weight: weight, bias: nil) }
}

#if canImport(Glibc)
import Glibc
@inline(__always) private func libmExp(_ x: Double) -> Double { Glibc.exp(x) }
#else
import Darwin
@inline(__always) private func libmExp(_ x: Double) -> Double { Darwin.exp(x) }
#endif
