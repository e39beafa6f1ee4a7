// The GRU with int8 input and recurrent matrices (per gate row), as QuantizedLSTM does
// it: one int8 GEMM projects every step's input, then per step an int8 GEMM of the
// batch's h (each row its own scale) with the recurrent matrix; PyTorch's gates (r, z, n),
// `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`, in fp32.
import CohortCore
import CohortNN
import CohortTensor
import Foundation

/// `GRU` (batch-first) with int8 `weight_ih_l{k}` `[3H, F or H]` and `weight_hh_l{k}` `[3H, H]`, fp32 biases.
public final class QuantizedGRU: Module {
    public var isTraining = false
    public let inputSize: Int, hiddenSize: Int
    /// Per layer: the input and recurrent matrices and their fp32 biases `[3H]`.
    public let layers: [(ih: QuantizedMatrix, hh: QuantizedMatrix, bih: [Float]?, bhh: [Float]?)]

    /// Quantizes `gru`'s matrices.
    public convenience init(_ gru: GRU) {
        let p = Dictionary(gru.namedParameters().map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        let g = 3 * gru.hiddenSize
        self.init(inputSize: gru.inputSize, hiddenSize: gru.hiddenSize, layers: (0..<gru.layers).map { l in
            let fin = l == 0 ? gru.inputSize : gru.hiddenSize
            return (QuantizedMatrix(weights: p["weight_ih_l\(l)"]!.contiguous().scalars, rows: g, k: fin),
                    QuantizedMatrix(weights: p["weight_hh_l\(l)"]!.contiguous().scalars, rows: g, k: gru.hiddenSize),
                    p["bias_ih_l\(l)"]?.contiguous().scalars, p["bias_hh_l\(l)"]?.contiguous().scalars)
        })
    }

    /// From stored values.
    public init(inputSize: Int, hiddenSize: Int, layers: [(ih: QuantizedMatrix, hh: QuantizedMatrix, bih: [Float]?, bhh: [Float]?)]) {
        precondition(layers.enumerated().allSatisfy { $0.element.ih.rows == 3 * hiddenSize && $0.element.hh.rows == 3 * hiddenSize
                                                      && $0.element.ih.k == ($0.offset == 0 ? inputSize : hiddenSize) && $0.element.hh.k == hiddenSize },
                     "QuantizedGRU: matrices do not fit input \(inputSize), hidden \(hiddenSize)")
        self.inputSize = inputSize; self.hiddenSize = hiddenSize; self.layers = layers
    }

    /// `x: [B, T, inputSize]` → the last layer's `h_t` for every step, `[B, T, H]` (zero initial state).
    /// - Throws: `CohortError.shapeMismatch` for another input shape.
    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 3, x.shape[2] == inputSize, x.shape[0] >= 1, x.shape[1] >= 1 else {
            throw CohortError.shapeMismatch(op: "QuantizedGRU(\(inputSize), \(hiddenSize))", "input must be [batch, steps, \(inputSize)], got \(describeShape(x.shape))")
        }
        let (b, t, h) = (x.shape[0], x.shape[1], hiddenSize)
        var current = x.contiguous().scalars
        for layer in layers {
            let gx = try QuantizedLSTM.project(current, rows: b * t, layer.ih, bias: layer.bih)   // [B·T, 3H]
            var state = [Float](repeating: 0, count: b * h)
            var out = [Float](repeating: 0, count: b * t * h)
            for step in 0..<t {
                let gh = try QuantizedLSTM.project(state, rows: b, layer.hh, bias: layer.bhh)   // [B, 3H]
                for s in 0..<b {
                    let gxo = (s * t + step) * 3 * h, gho = s * 3 * h
                    for j in 0..<h {
                        let r = QuantizedLSTM.sigmoid(gx[gxo + j] + gh[gho + j]), z = QuantizedLSTM.sigmoid(gx[gxo + h + j] + gh[gho + h + j])
                        let n = Foundation.tanh(gx[gxo + 2 * h + j] + r * gh[gho + 2 * h + j])
                        state[s * h + j] = n + z * (state[s * h + j] - n)
                        out[(s * t + step) * h + j] = state[s * h + j]
                    }
                }
            }
            current = out
        }
        return try Tensor(current, shape: [b, t, h])
    }
}
