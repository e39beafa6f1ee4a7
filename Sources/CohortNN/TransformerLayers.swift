// Transformer building blocks: LayerNorm, multi-head self-attention with a
// fused QKV projection, the GELU MLP and the pre-LayerNorm block. Parameter
// names follow nanoGPT (`ln_1`, `attn.c_attn`, `mlp.c_fc`, …) so weights map
// one to one onto GPT-2-style checkpoints.
import CohortCore
import CohortKernels
import CohortTensor

/// Layer normalisation over the last axis: `[…, features] → […, features]`, with a
/// learned scale (`weight`, ones) and shift (`bias`, zeros) unless `affine` is false.
public final class LayerNorm: Module {
    public let weight: Tensor?
    public let bias: Tensor?
    public let features: Int
    public let eps: Float
    public var isTraining = true

    public init(_ features: Int, eps: Float = 1e-5, affine: Bool = true) {
        self.features = features
        self.eps = eps
        weight = affine ? parameter(Tensor.ones([features])) : nil
        bias = affine ? parameter(Tensor.zeros([features])) : nil
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        guard let weight, let bias else { return [] }
        return [("weight", weight), ("bias", bias)]
    }

    /// - Throws: `CohortError.shapeMismatch` if the last dimension is not `features`.
    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == features else {
            throw CohortError.shapeMismatch(op: "LayerNorm(\(features))", "input \(describeShape(x.shape)) must have last dimension \(features)")
        }
        return try Tensor.layerNorm(x, weight: weight, bias: bias, eps: eps)
    }
}

/// Multi-head self-attention: `[B, T, dModel] → [B, T, dModel]`.
///
/// One fused projection `c_attn` (`Linear(dModel, 3·dModel)`, Q, K, V side by side)
/// feeds `Tensor.multiHeadSelfAttention(packed:)`, whose output (heads concatenated)
/// goes through `c_proj` (`Linear(dModel, dModel)`). Linear layers start with
/// PyTorch's default initialisation; `GPT` re-initialises them GPT-2 style.
public final class MultiHeadSelfAttention: Module {
    public let qkvProjection: Linear
    public let outputProjection: Linear
    public let dModel: Int, heads: Int
    public let causal: Bool
    public var isTraining = true

    /// - Throws: `CohortError.invalidArgument` unless `heads` divides `dModel`.
    public init(dModel: Int, heads: Int, causal: Bool = true, generator: inout RandomGenerator) throws {
        guard heads > 0, dModel > 0, dModel % heads == 0 else {
            throw CohortError.invalidArgument("MultiHeadSelfAttention: heads (\(heads)) must divide dModel (\(dModel))")
        }
        self.dModel = dModel; self.heads = heads; self.causal = causal
        qkvProjection = Linear(dModel, 3 * dModel, generator: &generator)
        outputProjection = Linear(dModel, dModel, generator: &generator)
    }

    public var children: [(name: String, module: any Module)] { [("c_attn", qkvProjection), ("c_proj", outputProjection)] }

    public func forward(_ x: Tensor) throws -> Tensor { try forward(x, keyPaddingMask: nil) }

    /// `x: [B, T, dModel]`; `keyPaddingMask: [B, T]`, nonzero = a real token, 0 = padding
    /// (see `Tensor.scaledDotProductAttention`). With `residual` (`[B, T, dModel]`) the output is
    /// `residual + attention`, summed by `c_proj`'s GEMM (`Linear.forward(_:residual:)`).
    /// - Throws: `CohortError.shapeMismatch` for a wrong input, mask or residual shape.
    public func forward(_ x: Tensor, keyPaddingMask: Tensor?, residual: Tensor? = nil) throws -> Tensor {
        guard x.rank == 3, x.shape[2] == dModel else {
            throw CohortError.shapeMismatch(op: "MultiHeadSelfAttention(\(dModel), heads: \(heads))", "input \(describeShape(x.shape)) must be [B, T, \(dModel)]")
        }
        let qkv = try qkvProjection(x)
        let y = try Tensor.multiHeadSelfAttention(packed: qkv, heads: heads, causal: causal, keyPaddingMask: keyPaddingMask)
        if let residual { return try outputProjection.forward(y, residual: residual) }
        return try outputProjection(y)
    }
}

/// The transformer feed-forward network: `Linear(d, r·d)` → GELU (erf) → `Linear(r·d, d)`.
public final class TransformerMLP: Module {
    public let fc: Linear
    public let proj: Linear
    public var isTraining = true

    public init(dModel: Int, ratio: Int = 4, generator: inout RandomGenerator) {
        fc = Linear(dModel, ratio * dModel, generator: &generator)
        proj = Linear(ratio * dModel, dModel, generator: &generator)
    }

    public var children: [(name: String, module: any Module)] { [("c_fc", fc), ("c_proj", proj)] }

    /// `c_fc` runs without its bias; the bias add is fused into the activation, which keeps its
    /// derivative in the buffer of `c_fc`'s output (read by nothing else).
    public func forward(_ x: Tensor) throws -> Tensor {
        try proj(try hidden(x))
    }

    /// `residual + forward(x)`, summed by `c_proj`'s GEMM (`Linear.forward(_:residual:)`).
    public func forward(_ x: Tensor, residual: Tensor) throws -> Tensor {
        try proj.forward(try hidden(x), residual: residual)
    }

    private func hidden(_ x: Tensor) throws -> Tensor {
        try TransformerMLP.biasGELU(Tensor.linear(x, weight: fc.weight, bias: nil), bias: fc.bias, consumingInput: true)
    }

    /// `gelu(h + bias)` (exact erf GELU, `bias: [n]` broadcast over `h: [.., n]`) as one
    /// recorded op whose forward also saves the derivative (`GELUKernels`): the backward
    /// is one multiply, with the bias gradient's column sums in the same sweep.
    /// `consumingInput`: `h` is read by nothing else (a linear layer's output), so the
    /// derivative overwrites it instead of taking another `h`-sized buffer.
    static func biasGELU(_ h: Tensor, bias: Tensor?, consumingInput: Bool = false) throws -> Tensor {
        guard h.rank >= 1, bias.map({ $0.shape == [h.shape[h.rank - 1]] }) ?? true else {
            throw CohortError.shapeMismatch(op: "biasGELU", "bias \(describeShape(bias?.shape ?? [])) vs input \(describeShape(h.shape))")
        }
        let workers = BLAS.threads
        let n = h.shape[h.rank - 1], rows = n == 0 ? 0 : h.count / n
        var derivative: Tensor?
        return try Tensor.customOp("biasGELU", inputs: bias.map { [h, $0] } ?? [h], forward: { xs in
            let hc = xs[0].contiguous(), bc = xs.count > 1 ? xs[1].contiguous() : nil
            let y = Tensor(storage: Storage(count: hc.count), shape: hc.shape)
            let d = consumingInput ? hc : Tensor(storage: Storage(count: hc.count), shape: hc.shape)
            try y.withMutableBuffer { yp in
                try d.withMutableBuffer { dp in
                    hc.withContiguousBuffer { hp in
                        if let bc {
                            bc.withContiguousBuffer { bp in
                                GELUKernels.forward(rows: rows, n: n, x: hp, bias: bp, y: yp, dydx: dp, workers: workers)
                            }
                        } else {
                            GELUKernels.forward(rows: rows, n: n, x: hp, bias: nil, y: yp, dydx: dp, workers: workers)
                        }
                    }
                }
            }
            derivative = d
            return y
        }, backward: { g, inputs, _ in
            guard let d = derivative else { return Array(repeating: nil, count: inputs.count) }
            let gc = g.contiguous()
            let dh = Tensor(storage: Storage(count: gc.count), shape: gc.shape)
            let db = inputs.count > 1 ? Tensor.zeros([n]) : nil
            try dh.withMutableBuffer { op in
                try gc.withContiguousBuffer { gp in
                    try d.withContiguousBuffer { dp in
                        if let db {
                            try db.withMutableBuffer { bp in
                                GELUKernels.backward(rows: rows, n: n, g: gp, dydx: dp, out: op, biasGrad: bp, workers: workers)
                            }
                        } else {
                            GELUKernels.backward(rows: rows, n: n, g: gp, dydx: dp, out: op, biasGrad: nil, workers: workers)
                        }
                    }
                }
            }
            return db.map { [dh, $0] } ?? [dh]
        })
    }
}

/// A pre-LayerNorm transformer block: `x + attn(ln_1(x))`, then `h + mlp(ln_2(h))`.
/// `[B, T, dModel] → [B, T, dModel]`; no dropout.
public final class TransformerBlock: Module {
    public let norm1: LayerNorm
    public let attention: MultiHeadSelfAttention
    public let norm2: LayerNorm
    public let mlp: TransformerMLP
    public var isTraining = true
    /// Activation checkpointing (`--checkpoint-activations`): in training the block keeps only
    /// its input and recomputes its activations in backward (`withActivationCheckpoint`); the
    /// results are the same, the memory of its activations is freed after its forward.
    public var checkpointActivations = false

    /// - Throws: `CohortError.invalidArgument` unless `heads` divides `dModel`.
    public init(dModel: Int, heads: Int, mlpRatio: Int = 4, causal: Bool = true, layerNormEps: Float = 1e-5,
                generator: inout RandomGenerator) throws {
        norm1 = LayerNorm(dModel, eps: layerNormEps)
        attention = try MultiHeadSelfAttention(dModel: dModel, heads: heads, causal: causal, generator: &generator)
        norm2 = LayerNorm(dModel, eps: layerNormEps)
        mlp = TransformerMLP(dModel: dModel, ratio: mlpRatio, generator: &generator)
    }

    public var children: [(name: String, module: any Module)] {
        [("ln_1", norm1), ("attn", attention), ("ln_2", norm2), ("mlp", mlp)]
    }

    public func forward(_ x: Tensor) throws -> Tensor { try forward(x, keyPaddingMask: nil) }

    /// `x: [B, T, dModel]`, optional `keyPaddingMask: [B, T]` (nonzero = real token).
    public func forward(_ x: Tensor, keyPaddingMask: Tensor?) throws -> Tensor {
        guard checkpointActivations else { return try blockForward(x, keyPaddingMask: keyPaddingMask) }
        return try withActivationCheckpoint("transformer block", inputs: [x]) { xs in
            try self.blockForward(xs[0], keyPaddingMask: keyPaddingMask)
        }
    }

    /// The residual adds are summed by the projections' GEMMs: no add op keeps the
    /// projections' outputs alive until backward.
    private func blockForward(_ x: Tensor, keyPaddingMask: Tensor?) throws -> Tensor {
        let h = try attention.forward(norm1(x), keyPaddingMask: keyPaddingMask, residual: x)
        let n2 = try norm2(h)
        // The MLP's timeline event, as `mlp(…)` would record it (Module.callAsFunction).
        if let tracer = Trace.recorder, let scope = tracer.scope(of: ObjectIdentifier(mlp)) {
            return try tracer.forward(scope: scope) { try mlp.forward(n2, residual: h) }
        }
        return try mlp.forward(n2, residual: h)
    }
}
