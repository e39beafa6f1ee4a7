// Multi-layer recurrent networks, batch-first: RNN (tanh), LSTM and GRU with
// PyTorch's parameter names (weight_ih_l0, weight_hh_l0, bias_ih_l0, …), gate
// order and initialisation U(-1/√H, 1/√H). Each layer is one fused op
// (`Tensor.recurrentLayer`) whose backward runs through time in one node.
import CohortCore
import CohortKernels
import CohortTensor

/// The parameters and the stacked forward shared by `RNN`, `LSTM` and `GRU`.
final class RecurrentStack {
    let cell: RecurrentCell
    let inputSize: Int, hiddenSize: Int, layers: Int
    /// Per layer: weight_ih, weight_hh, bias_ih, bias_hh.
    let weights: [(ih: Tensor, hh: Tensor, bih: Tensor?, bhh: Tensor?)]

    init(_ cell: RecurrentCell, inputSize: Int, hiddenSize: Int, layers: Int, bias: Bool, generator: inout RandomGenerator) throws {
        guard inputSize >= 1, hiddenSize >= 1, layers >= 1 else {
            throw CohortError.invalidArgument("\(cell.rawValue.uppercased()): inputSize, hiddenSize and layers must be ≥ 1, got \(inputSize), \(hiddenSize), \(layers)")
        }
        self.cell = cell
        self.inputSize = inputSize; self.hiddenSize = hiddenSize; self.layers = layers
        let G = cell.gateCount * hiddenSize
        let k = 1 / Float(hiddenSize).squareRoot()
        var w: [(ih: Tensor, hh: Tensor, bih: Tensor?, bhh: Tensor?)] = []
        for l in 0..<layers {
            let inF = l == 0 ? inputSize : hiddenSize
            let ih = parameter(Tensor.rand([G, inF], low: -k, high: k, generator: &generator))
            let hh = parameter(Tensor.rand([G, hiddenSize], low: -k, high: k, generator: &generator))
            let bih = bias ? parameter(Tensor.rand([G], low: -k, high: k, generator: &generator)) : nil
            let bhh = bias ? parameter(Tensor.rand([G], low: -k, high: k, generator: &generator)) : nil
            w.append((ih, hh, bih, bhh))
        }
        weights = w
    }

    var namedParameters: [(name: String, tensor: Tensor)] {
        var out: [(name: String, tensor: Tensor)] = []
        for (l, w) in weights.enumerated() {
            out.append(("weight_ih_l\(l)", w.ih))
            out.append(("weight_hh_l\(l)", w.hh))
            if let b = w.bih { out.append(("bias_ih_l\(l)", b)) }
            if let b = w.bhh { out.append(("bias_hh_l\(l)", b)) }
        }
        return out
    }

    var name: String { cell == .rnnTanh ? "RNN" : cell.rawValue.uppercased() }

    func checkState(_ s: Tensor?, _ what: String, batch: Int) throws {
        guard let s else { return }
        guard s.shape == [layers, batch, hiddenSize] else {
            throw CohortError.shapeMismatch(op: name, "\(what) must be [layers, batch, hidden] = [\(layers), \(batch), \(hiddenSize)], got \(describeShape(s.shape))")
        }
    }

    /// Runs every layer; returns the last layer's output and the final states stacked `[L, B, H]`.
    func forward(_ x: Tensor, h0: Tensor?, c0: Tensor?) throws -> (output: Tensor, h: Tensor, c: Tensor?) {
        guard x.rank == 3, x.shape[2] == inputSize else {
            throw CohortError.shapeMismatch(op: name, "input must be [batch, steps, \(inputSize)] (batch-first), got \(describeShape(x.shape))")
        }
        return try layers(batch: x.shape[0], h0: h0, c0: c0) { w, hl, cl in
            try Tensor.recurrentLayer(cell, input: x, h0: hl, c0: cl, weightIH: w.ih, weightHH: w.hh, biasIH: w.bih, biasHH: w.bhh)
        }
    }

    /// As `forward`, with the first layer reading rows `tokens` of `embedding` (`[V, inputSize]`).
    func forward(tokens: [Int], batch: Int, steps: Int, embedding: Tensor, h0: Tensor?, c0: Tensor?) throws -> (output: Tensor, h: Tensor, c: Tensor?) {
        guard embedding.rank == 2, embedding.shape[1] == inputSize else {
            throw CohortError.shapeMismatch(op: name, "embedding must be [vocab, \(inputSize)], got \(describeShape(embedding.shape))")
        }
        return try layers(batch: batch, h0: h0, c0: c0) { w, hl, cl in
            try Tensor.recurrentLayer(cell, tokens: tokens, batch: batch, steps: steps, embedding: embedding, h0: hl, c0: cl,
                                      weightIH: w.ih, weightHH: w.hh, biasIH: w.bih, biasHH: w.bhh)
        }
    }

    /// Runs `first` for layer 0, then the remaining layers on its output.
    func layers(batch: Int, h0: Tensor?, c0: Tensor?,
                _ first: ((ih: Tensor, hh: Tensor, bih: Tensor?, bhh: Tensor?), Tensor?, Tensor?) throws -> RecurrentLayerOutput)
        throws -> (output: Tensor, h: Tensor, c: Tensor?) {
        try checkState(h0, "h0", batch: batch)
        try checkState(c0, "c0", batch: batch)
        var seq: Tensor?
        var hs: [Tensor] = [], cs: [Tensor] = []
        for (l, w) in weights.enumerated() {
            let hl = try h0.map { try $0.slice(axis: 0, l, l + 1).squeeze(0) }
            let cl = try c0.map { try $0.slice(axis: 0, l, l + 1).squeeze(0) }
            let r = try seq.map {
                try Tensor.recurrentLayer(cell, input: $0, h0: hl, c0: cl, weightIH: w.ih, weightHH: w.hh, biasIH: w.bih, biasHH: w.bhh)
            } ?? first(w, hl, cl)
            seq = r.output
            hs.append(r.h)
            if let c = r.c { cs.append(c) }
        }
        let h = layers == 1 ? try hs[0].unsqueeze(0) : try Tensor.stack(hs)
        let c = cs.isEmpty ? nil : (layers == 1 ? try cs[0].unsqueeze(0) : try Tensor.stack(cs))
        return (seq!, h, c)
    }
}

/// The state an LSTM carries between calls: hidden and cell states, each `[layers, batch, hidden]`.
public struct LSTMState {
    /// Hidden states `[layers, batch, hidden]`.
    public var h: Tensor
    /// Cell states `[layers, batch, hidden]`.
    public var c: Tensor

    public init(h: Tensor, c: Tensor) { self.h = h; self.c = c }

    /// The same state cut off from the graph (truncated backpropagation through time).
    public func detached() -> LSTMState { LSTMState(h: h.detached(), c: c.detached()) }
}

/// What `RNN`, `LSTM` and `GRU` share: the stacked parameters, their sizes and mode.
public class RecurrentBase {
    let stack: RecurrentStack
    public var isTraining = true
    /// Features per input step (F).
    public var inputSize: Int { stack.inputSize }
    /// Hidden units per layer (H).
    public var hiddenSize: Int { stack.hiddenSize }
    /// Stacked layers (L).
    public var layers: Int { stack.layers }

    init(_ cell: RecurrentCell, inputSize: Int, hiddenSize: Int, layers: Int, bias: Bool, generator: inout RandomGenerator) throws {
        stack = try RecurrentStack(cell, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bias: bias, generator: &generator)
    }

    public var localParameters: [(name: String, tensor: Tensor)] { stack.namedParameters }

    /// The stack without a cell state (RNN, GRU): output and final `h`.
    func forwardHidden(_ x: Tensor, h0: Tensor?) throws -> (output: Tensor, h: Tensor) {
        let r = try stack.forward(x, h0: h0, c0: nil)
        return (r.output, r.h)
    }
}

/// Elman RNN with tanh, batch-first: `h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`,
/// stacked over `layers`. Parameters `weight_ih_l{k}` `[H, F or H]`, `weight_hh_l{k}` `[H, H]`,
/// `bias_ih_l{k}`, `bias_hh_l{k}` `[H]`.
public final class RNN: RecurrentBase, Module {
    /// - Throws: `CohortError.invalidArgument` for a size below 1.
    public init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bias: Bool = true, generator: inout RandomGenerator) throws {
        try super.init(.rnnTanh, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bias: bias, generator: &generator)
    }

    /// `x: [B, T, F]` → output `[B, T, H]` (the last layer's h_t for every t).
    public func forward(_ x: Tensor) throws -> Tensor { try forward(x, h0: nil).output }

    /// `x: [B, T, F]`, `h0: [L, B, H]` or nil (zeros) → output `[B, T, H]` and final `h: [L, B, H]`.
    /// - Throws: `CohortError.shapeMismatch` naming the expected and actual shapes.
    public func forward(_ x: Tensor, h0: Tensor?) throws -> (output: Tensor, h: Tensor) { try forwardHidden(x, h0: h0) }
}

/// LSTM, batch-first, PyTorch's gate order i, f, g, o: `c_t = f c_{t-1} + i g`, `h_t = o tanh(c_t)`.
/// Parameters `weight_ih_l{k}` `[4H, F or H]`, `weight_hh_l{k}` `[4H, H]`, `bias_ih_l{k}`, `bias_hh_l{k}` `[4H]`.
public final class LSTM: RecurrentBase, Module {
    /// - Throws: `CohortError.invalidArgument` for a size below 1.
    public init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bias: Bool = true, generator: inout RandomGenerator) throws {
        try super.init(.lstm, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bias: bias, generator: &generator)
    }

    /// `x: [B, T, F]` → output `[B, T, H]`.
    public func forward(_ x: Tensor) throws -> Tensor { try forward(x, state: nil).output }

    /// `x: [B, T, F]` and an initial state (nil: zeros) → output `[B, T, H]` and the final state.
    /// - Throws: `CohortError.shapeMismatch` naming the expected and actual shapes.
    public func forward(_ x: Tensor, state: LSTMState?) throws -> (output: Tensor, state: LSTMState) {
        let r = try stack.forward(x, h0: state?.h, c0: state?.c)
        return (r.output, LSTMState(h: r.h, c: r.c!))
    }

    /// The LSTM over `embedding(tokens)` with the lookup fused into the first layer: token ids
    /// `[batch, steps]` (row-major) and a table `[V, inputSize]` → output `[B, T, H]` and the
    /// final state, equal to `forward(embedding(tokens), state:)`. The first layer's input
    /// projection becomes a lookup in `table · W_ih_l0ᵀ` (`[V, 4H]`, one small GEMM), which
    /// saves three `[B·T, F] × [F, 4H]`-sized GEMMs when V < B·T; the table gets its gradient.
    /// - Throws: `CohortError.invalidArgument` for a bad id; `shapeMismatch` for bad shapes.
    public func forward(tokens: [Int], batch: Int, steps: Int, embedding: Tensor, state: LSTMState?) throws -> (output: Tensor, state: LSTMState) {
        let r = try stack.forward(tokens: tokens, batch: batch, steps: steps, embedding: embedding, h0: state?.h, c0: state?.c)
        return (r.output, LSTMState(h: r.h, c: r.c!))
    }
}

/// GRU, batch-first, PyTorch's gate order r, z, n: `n = tanh(W_in x + b_in + r (W_hn h + b_hn))`,
/// `h_t = (1 - z) n + z h_{t-1}`. Parameters `weight_ih_l{k}` `[3H, F or H]`, `weight_hh_l{k}` `[3H, H]`,
/// `bias_ih_l{k}`, `bias_hh_l{k}` `[3H]`.
public final class GRU: RecurrentBase, Module {
    /// - Throws: `CohortError.invalidArgument` for a size below 1.
    public init(inputSize: Int, hiddenSize: Int, layers: Int = 1, bias: Bool = true, generator: inout RandomGenerator) throws {
        try super.init(.gru, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers, bias: bias, generator: &generator)
    }

    /// `x: [B, T, F]` → output `[B, T, H]`.
    public func forward(_ x: Tensor) throws -> Tensor { try forward(x, h0: nil).output }

    /// `x: [B, T, F]`, `h0: [L, B, H]` or nil (zeros) → output `[B, T, H]` and final `h: [L, B, H]`.
    /// - Throws: `CohortError.shapeMismatch` naming the expected and actual shapes.
    public func forward(_ x: Tensor, h0: Tensor?) throws -> (output: Tensor, h: Tensor) { try forwardHidden(x, h0: h0) }
}
