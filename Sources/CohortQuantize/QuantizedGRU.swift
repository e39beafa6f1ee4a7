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
    public let layers: [QuantizedRecurrentLayer]

    /// Quantizes `gru`'s matrices.
    public convenience init(_ gru: GRU) {
        self.init(inputSize: gru.inputSize, hiddenSize: gru.hiddenSize,
                  layers: QuantizedRecurrent.quantize(gru, inputSize: gru.inputSize, hiddenSize: gru.hiddenSize, layers: gru.layers, gates: 3))
    }

    /// From stored values.
    public init(inputSize: Int, hiddenSize: Int, layers: [QuantizedRecurrentLayer]) {
        QuantizedRecurrent.requireFit(layers, inputSize: inputSize, hiddenSize: hiddenSize, gates: 3, kind: "QuantizedGRU")
        self.inputSize = inputSize; self.hiddenSize = hiddenSize; self.layers = layers
    }

    /// `x: [B, T, inputSize]` → the last layer's `h_t` for every step, `[B, T, H]` (zero initial state).
    /// - Throws: `CohortError.shapeMismatch` for another input shape.
    public func forward(_ x: Tensor) throws -> Tensor {
        let (b, t, input) = try QuantizedRecurrent.input(x, inputSize: inputSize, op: "QuantizedGRU(\(inputSize), \(hiddenSize))")
        let h = hiddenSize
        var current = input
        for layer in layers {
            let gx = try QuantizedRecurrent.project(current, rows: b * t, layer.ih, bias: layer.bih)   // [B·T, 3H]
            var state = [Float](repeating: 0, count: b * h)
            var out = [Float](repeating: 0, count: b * t * h)
            for step in 0..<t {
                let gh = try QuantizedRecurrent.project(state, rows: b, layer.hh, bias: layer.bhh)   // [B, 3H]
                for s in 0..<b {
                    let gxo = (s * t + step) * 3 * h, gho = s * 3 * h
                    for j in 0..<h {
                        let r = QuantizedRecurrent.sigmoid(gx[gxo + j] + gh[gho + j]), z = QuantizedRecurrent.sigmoid(gx[gxo + h + j] + gh[gho + h + j])
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
