// The LSTM with int8 input and recurrent matrices (per gate row, i.e. per output
// channel), and the char-LSTM around it. Each layer: one int8 GEMM for the input
// projection of every step, then per step an int8 GEMM of the batch's h (each row
// its own scale) with the recurrent matrix; the gates (PyTorch's i, f, g, o) and the
// cell state stay fp32.
import CohortCore
import CohortNN
import CohortTensor
import Foundation

/// `LSTM` (batch-first) with int8 `weight_ih_l{k}` `[4H, F or H]` and `weight_hh_l{k}` `[4H, H]`, fp32 biases.
public final class QuantizedLSTM: Module {
    public var isTraining = false
    public let inputSize: Int, hiddenSize: Int
    /// Per layer: the input and recurrent matrices and their fp32 biases `[4H]`.
    public let layers: [QuantizedRecurrentLayer]

    /// Quantizes `lstm`'s matrices.
    public convenience init(_ lstm: LSTM) {
        self.init(inputSize: lstm.inputSize, hiddenSize: lstm.hiddenSize,
                  layers: QuantizedRecurrent.quantize(lstm, inputSize: lstm.inputSize, hiddenSize: lstm.hiddenSize, layers: lstm.layers, gates: 4))
    }

    /// From stored values.
    public init(inputSize: Int, hiddenSize: Int, layers: [QuantizedRecurrentLayer]) {
        QuantizedRecurrent.requireFit(layers, inputSize: inputSize, hiddenSize: hiddenSize, gates: 4, kind: "QuantizedLSTM")
        self.inputSize = inputSize; self.hiddenSize = hiddenSize; self.layers = layers
    }

    /// `x: [B, T, inputSize]` → the last layer's `h_t` for every step, `[B, T, H]` (zero initial state).
    /// - Throws: `CohortError.shapeMismatch` for another input shape.
    public func forward(_ x: Tensor) throws -> Tensor {
        let (b, t, input) = try QuantizedRecurrent.input(x, inputSize: inputSize, op: "QuantizedLSTM(\(inputSize), \(hiddenSize))")
        let h = hiddenSize
        var current = input
        for layer in layers {
            let gx = try QuantizedRecurrent.project(current, rows: b * t, layer.ih, bias: layer.bih)   // [B·T, 4H]
            var state = [Float](repeating: 0, count: b * h), cell = [Float](repeating: 0, count: b * h)
            var out = [Float](repeating: 0, count: b * t * h)
            for step in 0..<t {
                let gh = try QuantizedRecurrent.project(state, rows: b, layer.hh, bias: layer.bhh)   // [B, 4H]
                for s in 0..<b {
                    let gxo = (s * t + step) * 4 * h, gho = s * 4 * h
                    for j in 0..<h {
                        let i = QuantizedRecurrent.sigmoid(gx[gxo + j] + gh[gho + j]), f = QuantizedRecurrent.sigmoid(gx[gxo + h + j] + gh[gho + h + j])
                        let g = Foundation.tanh(gx[gxo + 2 * h + j] + gh[gho + 2 * h + j]), o = QuantizedRecurrent.sigmoid(gx[gxo + 3 * h + j] + gh[gho + 3 * h + j])
                        let c = f * cell[s * h + j] + i * g
                        cell[s * h + j] = c
                        state[s * h + j] = o * Foundation.tanh(c)
                        out[(s * t + step) * h + j] = state[s * h + j]
                    }
                }
            }
            current = out
        }
        return try Tensor(current, shape: [b, t, h])
    }
}

/// `CharLSTM` with its embedding table, LSTM and (untied) head quantized: token ids `[B, T]` → logits `[B, T, vocab]`.
public final class QuantizedCharLSTM: Module {
    public var isTraining = false
    /// A `QuantizedEmbedding` (or the fp32 `Embedding`).
    public let embedding: any Module
    public let lstm: any Module
    /// The head (a `QuantizedLinear`, or `Linear`), nil when tied to the embedding.
    public let head: (any Module)?
    public let tiedBias: Tensor?

    public init(embedding: any Module, lstm: any Module, head: (any Module)?, tiedBias: Tensor?) {
        self.embedding = embedding; self.lstm = lstm; self.head = head; self.tiedBias = tiedBias
    }

    public var children: [(name: String, module: any Module)] {
        [("embedding", embedding), ("lstm", lstm)] + (head.map { [("head", $0)] } ?? [])
    }
    public var localParameters: [(name: String, tensor: Tensor)] { tiedBias.map { [("head_bias", $0)] } ?? [] }

    /// - Throws: `CohortError.shapeMismatch` for ids that are not `[B, T]`; the embedding's error for a bad id.
    public func forward(_ tokens: Tensor) throws -> Tensor {
        guard tokens.rank == 2 else { throw CohortError.shapeMismatch(op: "QuantizedCharLSTM", "token ids must be [batch, steps], got \(describeShape(tokens.shape))") }
        let h = try lstm(try embedding(tokens))
        if let head { return try head(h) }
        // Tied: the head multiplies by the embedding table, int8 when the table is.
        if let e = embedding as? QuantizedEmbedding {
            let rows = h.count / e.dimension
            let y = try QuantizedRecurrent.project(h.contiguous().scalars, rows: rows, e.weight, bias: tiedBias?.contiguous().scalars)
            return try Tensor(y, shape: Array(h.shape.dropLast()) + [e.vocabularySize])
        }
        guard let e = embedding as? Embedding else {
            throw CohortError.invalidArgument("QuantizedCharLSTM: a tied head needs an Embedding or QuantizedEmbedding, not \(type(of: embedding))")
        }
        return try Tensor.linear(h, weight: e.weight, bias: tiedBias)
    }
}
