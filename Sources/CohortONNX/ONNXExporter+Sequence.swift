// ONNX mappings of the sequence layers: Embedding → Gather, LSTM/GRU/RNN → ONNX's
// recurrent ops (gates reordered from PyTorch's to ONNX's), LayerNorm →
// LayerNormalization, self-attention as MatMul/Softmax with a causal mask built
// from the dynamic sequence length, the transformer block, GPT and CharLSTM.
import CohortNN
import CohortTensor

extension ONNXExporter {
    static var sequenceMappings: [Mapping] {
        [
            Mapping(Embedding.self) { m, c, x, p in gather(m.weight, ids: x, &c.graph, path: p, name: "weight") },
            Mapping(LayerNorm.self) { m, c, x, p in layerNorm(m, &c.graph, x, path: p) },
            Mapping(LSTM.self) { m, c, x, p in try recurrent(m, cell: .lstm, &c.graph, x, path: p) },
            Mapping(GRU.self) { m, c, x, p in try recurrent(m, cell: .gru, &c.graph, x, path: p) },
            Mapping(RNN.self) { m, c, x, p in try recurrent(m, cell: .rnn, &c.graph, x, path: p) },
            Mapping(MultiHeadSelfAttention.self) { m, c, x, p in try attention(m, &c, x, path: p) },
            Mapping(TransformerMLP.self) { m, c, x, p in
                let h = c.graph.linear(x, weight: m.fc.weight, bias: m.fc.bias, path: p + "c_fc.")
                return c.graph.linear(gelu(&c.graph, h, path: p), weight: m.proj.weight, bias: m.proj.bias, path: p + "c_proj.")
            },
            Mapping(TransformerBlock.self) { m, c, x, p in
                let a = try c.emit(m.attention, input: c.emit(m.norm1, input: x, path: p + "ln_1."), path: p + "attn.")
                let h = c.graph.binary("Add", x, a, name: p + "residual1")
                let f = try c.emit(m.mlp, input: c.emit(m.norm2, input: h, path: p + "ln_2."), path: p + "mlp.")
                return c.graph.binary("Add", h, f, name: p + "residual2")
            },
            Mapping(GPT.self) { m, c, x, p in try gpt(m, &c, x, path: p) },
            Mapping(CharLSTM.self) { m, c, x, p in
                let e = try c.emit(m.embedding, input: x, path: p + "embedding.")
                let h = try c.emit(m.lstm, input: e, path: p + "lstm.")
                if let head = m.head { return try c.emit(head, input: h, path: p + "head.") }
                return tiedHead(m.embedding.weight, bias: m.tiedBias, &c.graph, h, path: p + "head.")
            },
        ]
    }

    /// `table[ids]`: ids cast to int64 when they arrive as floats (Cohort's float-coded ids).
    static func gather(_ table: Tensor, ids: ONNXValue, _ g: inout ONNXGraphBuilder, path: String, name: String) -> ONNXValue {
        let w = g.initializer(table, name: path + name)
        let i = ids.type == .int64 ? ids : g.unary("Cast", ids, name: path + "ids", attributes: [("to", .int(Int(ONNXDataType.int64.rawValue)))])
        var idx = i
        idx.type = .int64
        return g.node("Gather", [w, idx], name: path + "gather", type: .float, shape: ids.shape + [.fixed(table.shape[1])],
                      attributes: [("axis", .int(0))])
    }

    /// `x · tableᵀ (+ bias)` for a head tied to an embedding table `[V, D]`.
    static func tiedHead(_ table: Tensor, bias: Tensor?, _ g: inout ONNXGraphBuilder, _ x: ONNXValue, path: String) -> ONNXValue {
        let w = g.initializer(table, name: path + "weight")
        let wt = g.transpose(w, [1, 0], name: path + "weight_t")
        let y = g.node("MatMul", [x, wt], name: path + "matmul", shape: Array(x.shape.dropLast()) + [.fixed(table.shape[0])])
        return bias.map { g.binary("Add", y, g.initializer($0, name: path + "bias"), name: path + "add") } ?? y
    }

    static func layerNorm(_ m: LayerNorm, _ g: inout ONNXGraphBuilder, _ x: ONNXValue, path: String) -> ONNXValue {
        let n = m.features
        let scale = m.weight.map { g.initializer($0, name: path + "weight") } ?? g.constant(floats: .init(repeating: 1, count: n), shape: [n], name: path + "weight")
        let bias = m.bias.map { g.initializer($0, name: path + "bias") } ?? g.constant(floats: .init(repeating: 0, count: n), shape: [n], name: path + "bias")
        return g.node("LayerNormalization", [x, scale, bias], name: path + "layernorm", shape: x.shape,
                      attributes: [("axis", .int(-1)), ("epsilon", .float(m.eps))])
    }

    /// The recurrent cells and how their gate blocks map to ONNX's order.
    enum Cell {
        case lstm, gru, rnn
        var op: String { self == .lstm ? "LSTM" : self == .gru ? "GRU" : "RNN" }
        /// ONNX gate block k is Cohort's (PyTorch's) block `order[k]`: LSTM i,o,f,c ← i,f,g,o; GRU z,r,h ← r,z,n.
        var order: [Int] { self == .lstm ? [0, 3, 1, 2] : self == .gru ? [1, 0, 2] : [0] }
    }

    /// Rows of `w` (`[G·H, …]` flattened) regrouped in ONNX's gate order.
    static func reorder(_ w: [Float], hidden: Int, order: [Int]) -> [Float] {
        let row = w.count / (order.count * hidden) * hidden
        return order.flatMap { w[($0 * row)..<(($0 + 1) * row)] }
    }

    /// A stacked batch-first recurrent layer as ONNX ops on `[T, B, F]` (ONNX Runtime has no batch-first layout):
    /// Transpose in, one op per layer (Squeeze of the direction axis between), Transpose out.
    static func recurrent(_ m: RecurrentBase & Module, cell: Cell, _ g: inout ONNXGraphBuilder, _ x: ONNXValue, path: String) throws -> ONNXValue {
        guard x.rank == 3, x.shape[2].size == m.inputSize else {
            throw ONNXExportError.unsupportedInput(type: cell.op, path: display(path), "input \(x.shape) must be [B, T, \(m.inputSize)]")
        }
        let hsz = m.hiddenSize, gates = cell.order.count
        let params = Dictionary(m.localParameters.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
        var seq = g.transpose(x, [1, 0, 2], name: path + "time_major")
        for l in 0..<m.layers {
            guard let ih = params["weight_ih_l\(l)"], let hh = params["weight_hh_l\(l)"] else {
                throw ONNXExportError.unsupportedInput(type: cell.op, path: display(path), "layer \(l) has no weight_ih_l\(l)/weight_hh_l\(l)")
            }
            let inF = ih.shape[1]
            let w = g.weight(floats: reorder(ih.scalars, hidden: hsz, order: cell.order), shape: [1, gates * hsz, inF], name: path + "W_l\(l)", axis: 1)
            let r = g.weight(floats: reorder(hh.scalars, hidden: hsz, order: cell.order), shape: [1, gates * hsz, hsz], name: path + "R_l\(l)", axis: 1)
            let zeros = [Float](repeating: 0, count: gates * hsz)
            let bih = params["bias_ih_l\(l)"].map { reorder($0.scalars, hidden: hsz, order: cell.order) } ?? zeros
            let bhh = params["bias_hh_l\(l)"].map { reorder($0.scalars, hidden: hsz, order: cell.order) } ?? zeros
            let b = g.constant(floats: bih + bhh, shape: [1, 2 * gates * hsz], name: path + "B_l\(l)")
            var attrs: [(name: String, value: ONNXAttributeValue)] = [("hidden_size", .int(hsz))]
            if cell == .gru { attrs.append(("linear_before_reset", .int(1))) }   // PyTorch's n = tanh(W x + b + r ⊙ (U h + b_hn))
            if cell == .rnn { attrs.append(("activations", .strings(["Tanh"]))) }
            let (t, batch) = (seq.shape[0], seq.shape[1])
            let y = g.node(cell.op, inputNames: [seq.name, w.name, r.name, b.name],
                           outputs: [(path + "Y_l\(l)", .float, [t, .fixed(1), batch, .fixed(hsz)])], name: path + cell.op.lowercased() + "_l\(l)",
                           attributes: attrs)[0]
            let axes = g.constant(ints: [1], name: path + "squeeze_axes")
            seq = g.node("Squeeze", [y, axes], name: path + "out_l\(l)", shape: [t, batch, .fixed(hsz)])
        }
        return g.transpose(seq, [1, 0, 2], name: path + "batch_major")
    }

    /// The sequence length of `x` (`[B, T, …]`) as an int64 scalar and as a one-element vector.
    static func sequenceLength(_ x: ONNXValue, _ g: inout ONNXGraphBuilder, path: String) -> (scalar: ONNXValue, vector: ONNXValue) {
        let v = g.node("Shape", [x], name: path + "seq_len", type: .int64, shape: [.fixed(1)], attributes: [("start", .int(1)), ("end", .int(2))])
        let s = g.reshape(v, to: [], shape: [], name: path + "seq_len_scalar")
        return (s, v)
    }

    /// Multi-head self-attention: packed QKV projection, split into heads, scaled scores,
    /// the causal mask (key > query ⇒ −∞) built from the dynamic length, softmax, weighted
    /// sum, heads concatenated, output projection.
    static func attention(_ m: MultiHeadSelfAttention, _ c: inout Context, _ x: ONNXValue, path: String) throws -> ONNXValue {
        guard x.rank == 3, x.shape[2].size == m.dModel else {
            throw ONNXExportError.unsupportedInput(type: "MultiHeadSelfAttention", path: display(path), "input \(x.shape) must be [B, T, \(m.dModel)]")
        }
        let (d, h) = (m.dModel, m.heads)
        let dh = d / h
        let (b, t) = (x.shape[0], x.shape[1])
        let qkv = c.graph.linear(x, weight: m.qkvProjection.weight, bias: m.qkvProjection.bias, path: path + "c_attn.")
        let split = c.graph.constant(ints: [d, d, d], name: path + "split")
        let parts = c.graph.node("Split", inputNames: [qkv.name, split.name],
                                 outputs: ["q", "k", "v"].map { (path + $0, .float, [b, t, .fixed(d)]) }, name: path + "split",
                                 attributes: [("axis", .int(2))])
        let heads = parts.map { c.graph.reshape($0, to: [0, 0, h, dh], shape: [b, t, .fixed(h), .fixed(dh)], name: $0.name + "_heads") }
        let q = c.graph.transpose(heads[0], [0, 2, 1, 3], name: path + "q_t")        // [B, H, T, dh]
        let kt = c.graph.transpose(heads[1], [0, 2, 3, 1], name: path + "k_t")       // [B, H, dh, T]
        let v = c.graph.transpose(heads[2], [0, 2, 1, 3], name: path + "v_t")        // [B, H, T, dh]
        var scores = c.graph.node("MatMul", [q, kt], name: path + "scores", shape: [b, .fixed(h), t, t])
        scores = c.graph.binary("Mul", scores, c.graph.scalar(1 / Float(max(dh, 1)).squareRoot(), name: path + "scale"), name: path + "scaled")
        if m.causal {
            let (len, _) = sequenceLength(x, &c.graph, path: path)
            let zero = c.graph.constant(ints: [0], shape: [], name: path + "zero")
            let one = c.graph.constant(ints: [1], shape: [], name: path + "one")
            let pos = c.graph.node("Range", [zero, len, one], name: path + "positions", type: .int64, shape: [t])
            let rows = c.graph.node("Unsqueeze", [pos, c.graph.constant(ints: [1], name: path + "axis1")], name: path + "rows", shape: [t, .fixed(1)])
            let cols = c.graph.node("Unsqueeze", [pos, c.graph.constant(ints: [0], name: path + "axis0")], name: path + "cols", shape: [.fixed(1), t])
            let future = c.graph.node("Greater", [cols, rows], name: path + "future", type: .bool, shape: [t, t])
            scores = c.graph.node("Where", [future, c.graph.scalar(-.infinity, name: path + "neg_inf"), scores], name: path + "masked",
                                  type: .float, shape: scores.shape)
        }
        let probs = c.graph.unary("Softmax", scores, name: path + "probs", attributes: [("axis", .int(-1))])
        let y = c.graph.node("MatMul", [probs, v], name: path + "context", shape: [b, .fixed(h), t, .fixed(dh)])
        let merged = c.graph.reshape(c.graph.transpose(y, [0, 2, 1, 3], name: path + "context_t"), to: [0, 0, d],
                                     shape: [b, t, .fixed(d)], name: path + "merged")
        return c.graph.linear(merged, weight: m.outputProjection.weight, bias: m.outputProjection.bias, path: path + "c_proj.")
    }

    /// GPT: token ids `[B, T]` → Gather(wte) + wpe[0..<T] → blocks → ln_f → x · wteᵀ.
    static func gpt(_ m: GPT, _ c: inout Context, _ x: ONNXValue, path: String) throws -> ONNXValue {
        guard x.rank == 2 else {
            throw ONNXExportError.unsupportedInput(type: "GPT", path: display(path), "input \(x.shape) must be token ids [B, T]")
        }
        let tok = gather(m.tokenEmbedding, ids: x, &c.graph, path: path, name: "wte.weight")
        let wpe = c.graph.initializer(m.positionEmbedding, name: path + "wpe.weight")
        let (_, len) = sequenceLength(x, &c.graph, path: path)
        let starts = c.graph.constant(ints: [0], name: path + "pos_start"), axes = c.graph.constant(ints: [0], name: path + "pos_axes")
        let pos = c.graph.node("Slice", [wpe, starts, len, axes], name: path + "positions", shape: [x.shape[1], .fixed(m.config.dModel)])
        var h = c.graph.binary("Add", tok, pos, name: path + "embedded")
        for (i, block) in m.blocks.enumerated() { h = try c.emit(block, input: h, path: path + "h.\(i).") }
        h = try c.emit(m.finalNorm, input: h, path: path + "ln_f.")
        return tiedHead(m.tokenEmbedding, bias: nil, &c.graph, h, path: path + "lm_head.")
    }
}
