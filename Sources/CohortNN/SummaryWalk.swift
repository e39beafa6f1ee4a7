// The walk behind `Module.summary(inputShape:)`: how a shape flows through each built-in
// composite (Sequential, ResidualBlock, the transformer blocks, GPT, CharLSTM, DCGAN) and, per
// layer type, the output shape, forward FLOPs and kept activations from the layer's sizes.
import CohortCore
import CohortTensor

/// A composite module defined outside CohortNN (e.g. a task's model) that tells `Module.summary`
/// which input shape each of its children sees, so its rows, FLOPs and activations are counted
/// instead of taken from one opaque forward pass. Its own `localParameters` get one row.
public protocol SummaryComposite: Module {
    /// The children in the order they run, each with the shape of its input, and the module's output
    /// shape, for an input of shape `input`.
    /// - Throws: `CohortError.shapeMismatch` for an input the module does not take.
    func summaryParts(input: [Int]) throws -> (parts: [(name: String, module: any Module, input: [Int])], output: [Int])
}

/// Builds the tree of summary rows, counting each parameter tensor once.
struct SummaryWalk {
    /// A row and the rows under it.
    struct Node {
        var row: LayerSummary
        var children: [Node]
    }

    /// Parameter tensors already counted (a tied weight counts in its first row only).
    var seen = Set<ObjectIdentifier>()
    /// Parameter tensors counted as frozen whatever their `requiresGrad` (the Trainer's `freeze` globs).
    var frozen = Set<ObjectIdentifier>()

    /// The node of module `m`, named `name`, for inputs of shape `input`.
    mutating func node(_ m: any Module, name: String, depth: Int, input: [Int]) throws -> Node {
        let type = String(describing: Swift.type(of: m))
        let path = { (child: String) in name.isEmpty ? child : name + "." + child }
        switch m {
        case is Sequential, is TransformerBlock, is TransformerMLP:
            return group(type, name, depth, try chain(m.children, path, depth, input))
        case let block as ResidualBlock:
            var kids = try chain(block.children.filter { $0.name != "shortcut" }, path, depth, input)
            let output = kids.last!.row.outputShape
            if let shortcut = block.shortcut { kids.append(try node(shortcut, name: path("shortcut"), depth: depth + 1, input: input)) }
            return group(type, name, depth, kids, output: output)
        case let attention as MultiHeadSelfAttention:
            let qkv = try node(attention.qkvProjection, name: path("c_attn"), depth: depth + 1, input: input)
            let core = try attentionCore(attention, path("attention"), depth + 1, qkv.row.outputShape)
            let out = try node(attention.outputProjection, name: path("c_proj"), depth: depth + 1, input: core.row.outputShape)
            return group(type, name, depth, [qkv, core, out])
        case let gan as DCGAN:   // the generator from a latent vector, then the discriminator on its images
            let g = try node(gan.generator, name: path("generator"), depth: depth + 1, input: [input.first ?? 1, gan.latent])
            let packed = [max(1, (input.first ?? 1) / gan.pack), gan.pack * DCGAN.channels, DCGAN.imageSize, DCGAN.imageSize]
            let d = try node(gan.discriminator, name: path("discriminator"), depth: depth + 1, input: gan.pack == 1 ? g.row.outputShape : packed)
            return group(type, name, depth, [g, d], output: g.row.outputShape)
        case let gpt as GPT:
            return group(type, name, depth, try gptRows(gpt, path, depth, input))
        case let lstm as CharLSTM:
            var kids = try chain(lstm.children, path, depth, input)
            if lstm.head == nil, let bias = lstm.tiedBias {   // the head is the embedding table itself plus a bias
                let h = kids.last!.row.outputShape, v = lstm.vocabularySize, rows = h.dropLast().reduce(1, *)
                kids.append(leafNode("head", "TiedLinear", path("head_bias"), depth + 1, [bias], Array(h.dropLast()) + [v],
                                     flops: rows * (2 * h.last! * v + v), activations: rows * v))
            }
            return group(type, name, depth, kids)
        case let composite as any SummaryComposite:
            let (parts, output) = try composite.summaryParts(input: input)
            let own = m.localParameters
            var kids = own.isEmpty ? [] : [leafNode("parameters", "Parameters", path(own.map(\.name).joined(separator: ",")), depth + 1,
                                                    own.map(\.tensor), input, flops: 0, activations: 0)]
            for part in parts { kids.append(try node(part.module, name: path(part.name), depth: depth + 1, input: part.input)) }
            return group(type, name, depth, kids, output: output)
        default:
            let parameters = m.namedParameters().map(\.tensor)
            if let leaf = try SummaryWalk.leaf(m, input, layer: name.isEmpty ? type : name) {
                return leafNode(type, type, name, depth, parameters, leaf.output, flops: leaf.flops, activations: leaf.activations)
            }
            // A type the summary does not know: its output shape from one forward pass on zeros.
            let wasTraining = m.isTraining
            m.eval()
            defer { m.train(wasTraining) }
            let output = try withNoGrad { try m.forward(Tensor.zeros(input)) }.shape
            return leafNode(type, type, name, depth, parameters, output, flops: 0, activations: output.reduce(1, *))
        }
    }

    /// Runs `modules` one after another from `input`, each on the previous one's output.
    mutating func chain(_ modules: [(name: String, module: any Module)], _ path: (String) -> String, _ depth: Int,
                        _ input: [Int]) throws -> [Node] {
        var x = input, out: [Node] = []
        for (n, c) in modules {
            let k = try node(c, name: path(n), depth: depth + 1, input: x)
            x = k.row.outputShape
            out.append(k)
        }
        return out
    }

    /// A group row summing `kids` (output: the last kid's unless given).
    func group(_ type: String, _ name: String, _ depth: Int, _ kids: [Node], output: [Int]? = nil) -> Node {
        let row = LayerSummary(name: name, type: type, depth: depth, outputShape: output ?? kids.last?.row.outputShape ?? [],
                               trainableParameters: kids.reduce(0) { $0 + $1.row.trainableParameters },
                               frozenParameters: kids.reduce(0) { $0 + $1.row.frozenParameters },
                               flops: kids.reduce(0) { $0 + $1.row.flops },
                               activationElements: kids.reduce(0) { $0 + $1.row.activationElements }, isGroup: true)
        return Node(row: row, children: kids)
    }

    /// A row without children, counting those of `parameters` not counted before.
    mutating func leafNode(_ label: String, _ type: String, _ name: String, _ depth: Int, _ parameters: [Tensor], _ output: [Int],
                           flops: Int, activations: Int) -> Node {
        var trainable = 0, frozen = 0
        for p in parameters where seen.insert(ObjectIdentifier(p)).inserted {
            if p.requiresGrad && !self.frozen.contains(ObjectIdentifier(p)) { trainable += p.count } else { frozen += p.count }
        }
        let row = LayerSummary(name: name.isEmpty ? label : name, type: type, depth: depth, outputShape: output,
                               trainableParameters: trainable, frozenParameters: frozen, flops: flops,
                               activationElements: activations, isGroup: false)
        return Node(row: row, children: [])
    }

    /// Softmax(QKᵀ/√d)·V of `MultiHeadSelfAttention` on packed `[B, T, 3·d]` projections:
    /// 2·B·T²·d FLOPs for each of QKᵀ and AV; keeps the `[B, heads, T, T]` probabilities.
    mutating func attentionCore(_ a: MultiHeadSelfAttention, _ name: String, _ depth: Int, _ qkv: [Int]) throws -> Node {
        guard qkv.count == 3, qkv[2] == 3 * a.dModel else {
            throw CohortError.shapeMismatch(op: "summary", "\(name): packed projections must be [B, T, \(3 * a.dModel)], got \(describeShape(qkv))")
        }
        let (b, t, d) = (qkv[0], qkv[1], a.dModel)
        return leafNode("attention", "ScaledDotProductAttention", name, depth, [], [b, t, d],
                        flops: 2 * (2 * b * t * t * d), activations: b * a.heads * t * t + b * t * d)
    }

    /// GPT's rows: the token and position embeddings (`wte`, `wpe`), the blocks, `ln_f` and the
    /// tied LM head (its weight is `wte.weight`, counted there).
    mutating func gptRows(_ gpt: GPT, _ path: (String) -> String, _ depth: Int, _ input: [Int]) throws -> [Node] {
        let c = gpt.config
        guard input.count == 2, input[1] <= c.contextLength else {
            throw CohortError.shapeMismatch(op: "summary", "GPT: token ids must be [B, T] with T ≤ \(c.contextLength), got \(describeShape(input))")
        }
        let embedded = input + [c.dModel], n = embedded.reduce(1, *)
        var kids = [leafNode("wte", "Embedding", path("wte"), depth + 1, [gpt.tokenEmbedding], embedded, flops: 0, activations: n),
                    leafNode("wpe", "PositionEmbedding", path("wpe"), depth + 1, [gpt.positionEmbedding], embedded, flops: 0, activations: n)]
        kids += try chain(gpt.children.filter { $0.name != "lm_head" }, path, depth, embedded)
        if let head = gpt.children.first(where: { $0.name == "lm_head" })?.module {
            let rows = input.reduce(1, *)
            kids.append(leafNode("lm_head", "TiedLinear", path("lm_head"), depth + 1, head.namedParameters().map(\.tensor), input + [c.vocabSize],
                                 flops: rows * 2 * c.dModel * c.vocabSize, activations: rows * c.vocabSize))
        }
        return kids
    }
}
