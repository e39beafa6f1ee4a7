// One recurrent layer (tanh RNN, LSTM, GRU) over a batch-first sequence as a
// single differentiable op: the forward runs the fused kernels of
// `RecurrentSequence`, and its backward is backpropagation through time for
// the whole layer, accumulating weight gradients straight into (arena) buffers.
// A variant takes token ids and an embedding table instead of features.
import CohortCore
import CohortKernels

/// The results of `Tensor.recurrentLayer`.
public struct RecurrentLayerOutput {
    /// Hidden state of every step, `[B, T, H]`.
    public let output: Tensor
    /// Final hidden state `[B, H]` (a view of the last step of `output`).
    public let h: Tensor
    /// LSTM only: final cell state `[B, H]`.
    public let c: Tensor?
}

extension Tensor {
    /// Runs one recurrent layer over a whole sequence, PyTorch's equations and gate order.
    ///
    /// - Parameters:
    ///   - cell: `.rnnTanh`, `.lstm` or `.gru`; G below is its gate count (1, 4, 3).
    ///   - input: `[B, T, F]`, batch-first.
    ///   - h0: initial hidden state `[B, H]`, or nil for zeros.
    ///   - c0: LSTM initial cell state `[B, H]`, or nil for zeros.
    ///   - weightIH: `[G·H, F]`; weightHH: `[G·H, H]`; biasIH, biasHH: `[G·H]` or nil.
    ///   - threads: 2 runs two threads, splitting the batch rows (B ≥ 2) or else the hidden
    ///     units (H even); nil uses two when OpenBLAS is set to two or more and the layer
    ///     is large enough.
    /// - Returns: the output sequence `[B, T, H]` and the final states, all differentiable
    ///   with respect to the input, the weights, the biases and the initial states.
    /// - Throws: `CohortError.shapeMismatch` naming the offending shapes.
    public static func recurrentLayer(_ cell: RecurrentCell, input: Tensor, h0: Tensor? = nil, c0: Tensor? = nil,
                                      weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?,
                                      threads: Int? = nil) throws -> RecurrentLayerOutput {
        guard input.rank == 3, input.shape[0] > 0, input.shape[1] > 0 else {
            throw CohortError.shapeMismatch(op: "\(cell.rawValue) layer", "input must be [batch, steps, features] with batch, steps ≥ 1, got \(describeShape(input.shape))")
        }
        return try recurrent(cell, .features(input.contiguous()), batch: input.shape[0], steps: input.shape[1], h0: h0, c0: c0,
                             weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH, threads: threads)
    }

    /// One recurrent layer whose input at step t is row `tokens[b·T + t]` of `embedding`
    /// (`[V, F]`): the same result as `recurrentLayer(input: embedding(tokens))`, but the
    /// input projection is a lookup in `embedding · W_ihᵀ` (computed once per call), so it
    /// pays off when the vocabulary is smaller than the batch's token count.
    /// - Throws: `CohortError.invalidArgument` for an id outside `0..<V`, as the lookup does;
    ///   `CohortError.shapeMismatch` for inconsistent shapes.
    public static func recurrentLayer(_ cell: RecurrentCell, tokens: [Int], batch: Int, steps: Int, embedding: Tensor,
                                      h0: Tensor? = nil, c0: Tensor? = nil, weightIH: Tensor, weightHH: Tensor,
                                      biasIH: Tensor?, biasHH: Tensor?, threads: Int? = nil) throws -> RecurrentLayerOutput {
        let op = "\(cell.rawValue) layer"
        guard embedding.rank == 2 else {
            throw CohortError.shapeMismatch(op: op, "embedding must be [vocab, dim], got \(describeShape(embedding.shape))")
        }
        guard batch >= 1, steps >= 1, tokens.count == batch * steps else {
            throw CohortError.shapeMismatch(op: op, "\(tokens.count) token ids for batch \(batch) × steps \(steps)")
        }
        let V = embedding.shape[0]
        var ids = [Int32](repeating: 0, count: tokens.count)
        for (i, v) in tokens.enumerated() {
            guard v >= 0 && v < V else {
                throw CohortError.invalidArgument("\(op): id \(v) at position \(describeShape([i / steps, i % steps])) is out of range for vocabulary size \(V) (valid ids 0..<\(V))")
            }
            ids[i] = Int32(v)
        }
        return try recurrent(cell, .tokens(ids, embedding.contiguous()), batch: batch, steps: steps, h0: h0, c0: c0,
                             weightIH: weightIH, weightHH: weightHH, biasIH: biasIH, biasHH: biasHH, threads: threads)
    }

    /// Features `[B, T, F]` or token ids with their table `[V, F]` (both contiguous).
    enum RecurrentSource {
        case features(Tensor)
        case tokens([Int32], Tensor)
        var tensor: Tensor { switch self { case .features(let t), .tokens(_, let t): return t } }
    }

    static func recurrent(_ cell: RecurrentCell, _ source: RecurrentSource, batch B: Int, steps T: Int, h0: Tensor?, c0: Tensor?,
                          weightIH: Tensor, weightHH: Tensor, biasIH: Tensor?, biasHH: Tensor?, threads: Int?,
                          split: RecurrentSplit? = nil) throws -> RecurrentLayerOutput {
        let op = "\(cell.rawValue) layer"
        let F = source.tensor.shape[source.tensor.rank - 1]
        guard weightHH.rank == 2, weightHH.shape[0] % cell.gateCount == 0, weightHH.shape[0] / cell.gateCount == weightHH.shape[1] else {
            throw CohortError.shapeMismatch(op: op, "weightHH must be [\(cell.gateCount)·H, H], got \(describeShape(weightHH.shape))")
        }
        let H = weightHH.shape[1], G = cell.gateCount * H
        guard weightIH.shape == [G, F] else {
            throw CohortError.shapeMismatch(op: op, "weightIH must be [\(G), \(F)] for \(F) input features and hidden size \(H), got \(describeShape(weightIH.shape))")
        }
        for (name, b) in [("biasIH", biasIH), ("biasHH", biasHH)] {
            if let b, b.shape != [G] { throw CohortError.shapeMismatch(op: op, "\(name) must be [\(G)], got \(describeShape(b.shape))") }
        }
        for (name, s) in [("h0", h0), ("c0", c0)] {
            if let s, s.shape != [B, H] {
                throw CohortError.shapeMismatch(op: op, "\(name) must be [\(B), \(H)] (batch, hidden), got \(describeShape(s.shape))")
            }
        }
        if c0 != nil && cell != .lstm { throw CohortError.invalidArgument("\(op): only the LSTM has a cell state (c0)") }
        let d = RecurrentDims(cell: cell, batch: B, steps: T, input: F, hidden: H)
        var vocabulary: Int?
        if case .tokens(_, let table) = source { vocabulary = table.shape[0] }
        // Two threads when BLAS may use two: a batch splits its rows when the layer (≥ 4M
        // multiply-adds) outweighs waking the helper twice; a single sequence splits the hidden
        // units when a step's GEMM (≥ 1M, ~20 µs) outweighs a barrier per step, so one-token
        // generation of a small model stays on one.
        let large = B >= 2 ? T * B * G * H >= 1 << 22 : G * H >= 1 << 20
        let plan = RecurrentPlan(d, threads: threads ?? (large ? BLAS.threads : 1), vocabulary: vocabulary, split: split)

        let src = source.tensor.detached()
        let wih = weightIH.contiguous().detached(), whh = weightHH.contiguous().detached()
        let bih = biasIH?.contiguous().detached(), bhh = biasHH?.contiguous().detached()
        let h0c = h0?.contiguous().detached(), c0c = c0?.contiguous().detached()
        let saved = Tensor(uninitialized: [plan.savedCount])
        let scratch = Tensor(uninitialized: [plan.forwardScratchCount])
        // Output and (LSTM) final cell state in one buffer, so one graph node owns both.
        let packed = Tensor(uninitialized: [B * T * H + (cell == .lstm ? B * H : 0)])
        let weights = RecurrentWeights(wIH: wih.base, wHH: whh.base, bIH: bih?.base, bHH: bhh?.base)
        let ids: [Int32]
        if case .tokens(let t, _) = source { ids = t } else { ids = [] }
        let run = { (body: (RecurrentInput) -> Void) in
            ids.withUnsafeBufferPointer { p in
                if vocabulary == nil { body(.features(src.base)) } else { body(.tokens(p.baseAddress!, table: src.base)) }
            }
        }
        run { input in
            RecurrentSequence.forward(plan, weights: weights, input: input, h0: h0c?.base, c0: c0c?.base, saved: saved.base,
                                      scratch: scratch.base, output: packed.base, cellN: cell == .lstm ? packed.base + B * T * H : nil)
        }

        var inputs = [source.tensor, weightIH, weightHH]
        let iBIH = biasIH.map { b -> Int in inputs.append(b); return inputs.count - 1 }
        let iBHH = biasHH.map { b -> Int in inputs.append(b); return inputs.count - 1 }
        let iH0 = h0.map { s -> Int in inputs.append(s); return inputs.count - 1 }
        let iC0 = c0.map { s -> Int in inputs.append(s); return inputs.count - 1 }
        let result = record(packed, cell.rawValue, inputs) { g0, ctx in
            let g = g0.contiguous()
            var out = [Tensor?](repeating: nil, count: inputs.count)
            // Parameter (and table) gradients go straight into the leaf's buffer when it has one.
            func accumulated(_ i: Int?, _ shape: [Int]) -> UnsafeMutablePointer<Float>? {
                guard let i, ctx.needs(i) else { return nil }
                if let acc = ctx.accumulator(i) { return acc.base }
                let t = Tensor.zeros(shape)
                out[i] = t
                return t.base
            }
            func fresh(_ i: Int?, _ shape: [Int]) -> UnsafeMutablePointer<Float>? {
                guard let i, ctx.needs(i) else { return nil }
                let t = Tensor(uninitialized: shape)
                out[i] = t
                return t.base
            }
            let dSource = vocabulary == nil ? fresh(0, [B, T, F]) : accumulated(0, [vocabulary!, F])
            let grads = RecurrentGradients(wIH: accumulated(1, [G, F]), wHH: accumulated(2, [G, H]),
                                           bIH: accumulated(iBIH, [G]), bHH: accumulated(iBHH, [G]),
                                           x: vocabulary == nil ? dSource : nil, table: vocabulary == nil ? nil : dSource,
                                           h0: fresh(iH0, [B, H]), c0: fresh(iC0, [B, H]))
            let scratch = Tensor(uninitialized: [plan.backwardScratchCount])
            run { input in
                RecurrentSequence.backward(plan, weights: weights, input: input, saved: saved.base, gradOutput: g.base,
                                           gradCellN: cell == .lstm ? g.base + B * T * H : nil, scratch: scratch.base, grads: grads)
            }
            // The kernels hold only pointers: keep the saved tensors alive until here.
            withExtendedLifetime((src, wih, whh, bih, bhh, saved)) {}
            return out
        }
        let output = try result.slice(axis: 0, 0, B * T * H).reshape([B, T, H])
        let h = try output.slice(axis: 1, T - 1, T).reshape([B, H])
        let c = cell == .lstm ? try result.slice(axis: 0, B * T * H, B * T * H + B * H).reshape([B, H]) : nil
        return RecurrentLayerOutput(output: output, h: h, c: c)
    }
}
