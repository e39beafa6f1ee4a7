// `Module.summary(inputShape:)`: per layer, the output shape, the parameters (trainable and
// frozen) and the forward FLOPs of a model for one input shape, with totals; computed from
// the layers' sizes (no forward pass, nothing allocated). The walk itself is SummaryWalk.swift.
import CohortCore
import CohortTensor

/// One row of a `ModelSummary`: a layer, or a group of layers (a `Sequential`, a transformer
/// block, …) whose figures are the sums of the rows below it.
public struct LayerSummary: Sendable, Equatable {
    /// Dotted path, as in `namedParameters()` (`h.0.attn.c_attn`); a row for parameters a
    /// composite model holds itself is named after them (`wte` for `wte.weight`).
    public var name: String
    /// The module's type (`Linear`), or what the row computes (`ScaledDotProductAttention`).
    public var type: String
    /// 0 for the model's own rows, one more per level of nesting.
    public var depth: Int
    /// Shape of the layer's output for the summary's input shape.
    public var outputShape: [Int]
    /// Parameters with `requiresGrad`, not counted in an earlier row (a tied weight counts once).
    public var trainableParameters: Int
    /// Parameters with `requiresGrad == false` (frozen), likewise.
    public var frozenParameters: Int
    /// Forward FLOPs for the summary's input (convention: `ModelSummary.flopConvention`).
    public var flops: Int
    /// Floats the forward keeps for the backward (an estimate: outputs, attention
    /// probabilities, recurrent gates; views such as `Flatten` keep none).
    public var activationElements: Int
    /// True when the next rows (one level deeper) break this row down.
    public var isGroup: Bool

    /// Trainable plus frozen parameters.
    public var parameters: Int { trainableParameters + frozenParameters }
}

/// Per-layer shapes, parameters and FLOPs of a model for one input shape, and the totals.
public struct ModelSummary: Sendable, Equatable {
    /// How FLOPs are counted.
    public static let flopConvention = "2 FLOPs per multiply-add of matrix products and convolutions "
        + "(attention's QKᵀ and AV over the full T×T, causal or not), plus 1 per bias addition; activations, "
        + "normalisation, pooling, softmax, embedding lookups and residual additions are not counted"

    /// The model's type (`Sequential`, `GPT`, …).
    public var type: String
    /// The input shape summarised, batch first.
    public var inputShape: [Int]
    /// The model's output shape for it.
    public var outputShape: [Int]
    /// Rows depth-first in `children` order; group rows come before the rows they hold.
    public var layers: [LayerSummary]
    /// Parameters with `requiresGrad`.
    public var trainableParameters: Int
    /// Parameters with `requiresGrad == false`.
    public var frozenParameters: Int
    /// Elements of the buffers (BatchNorm running statistics): saved with the model, never trained.
    public var bufferElements: Int
    /// Forward FLOPs for `inputShape` (all rows).
    public var flops: Int
    /// Floats the forward keeps for the backward, for `inputShape` (an estimate).
    public var activationElements: Int

    /// All parameters: equals the model's `parameterCount`.
    public var parameters: Int { trainableParameters + frozenParameters }
    /// The batch size of `inputShape` (its first dimension).
    public var batch: Int { inputShape.first ?? 1 }
    /// Forward FLOPs per sample.
    public var flopsPerSample: Double { Double(flops) / Double(max(batch, 1)) }
    /// The rows that are not groups: their parameters, FLOPs and activations add up to the totals.
    public var leaves: [LayerSummary] { layers.filter { !$0.isGroup } }

    /// The rows as an aligned text table (name indented by depth, type, output shape,
    /// parameters, frozen, FLOPs), a rule, and a totals line.
    public func table() -> String {
        let header = ["layer", "type", "output shape", "parameters", "frozen", "FLOPs"]
        var rows = layers.map { l in
            [String(repeating: "  ", count: l.depth) + l.name, l.type, describeShape(l.outputShape),
             ModelSummary.grouped(l.parameters), ModelSummary.grouped(l.frozenParameters), ModelSummary.grouped(l.flops)]
        }
        rows.append(["total", type, describeShape(outputShape), ModelSummary.grouped(parameters),
                     ModelSummary.grouped(frozenParameters), ModelSummary.grouped(flops)])
        let widths = header.indices.map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { c, text in
                let pad = String(repeating: " ", count: widths[c] - text.count)
                return c < 3 ? text + pad : pad + text   // text left, numbers right
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
        return ([line(header), rule] + rows.dropLast().map(line) + [rule, line(rows.last!)]).joined(separator: "\n")
    }

    /// `n` with thousands separators (`1,234,567`).
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        let body = String(digits.reversed().enumerated().map { i, c in i > 0 && i % 3 == 0 ? [",", c] : [c] }.joined().reversed())
        return n < 0 ? "-" + body : body
    }

    /// `flops` with an SI prefix, e.g. `3.73 MFLOPs`.
    public static func flopsText(_ flops: Double) -> String {
        let units = ["FLOPs", "kFLOPs", "MFLOPs", "GFLOPs", "TFLOPs", "PFLOPs"]
        var value = flops, unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(Int(value)) FLOPs" : String(format: "%.3g %@", value, units[unit])
    }
}

extension Module {
    /// The summary of this model for inputs of `inputShape` (batch first: `[1, 784]` for one
    /// flattened MNIST image, `[B, T]` token ids for `GPT` and `CharLSTM`).
    ///
    /// Rows follow `children` depth-first down to `maxDepth` levels (nil: every level; a row at
    /// the limit holds everything under it). Shapes and FLOPs come from each layer's sizes, not
    /// from running it, so even a large model is summarised at once; a module type the summary
    /// does not know is run once on zeros without recording gradients, for its output shape
    /// (its FLOPs then count as 0). FLOPs follow `ModelSummary.flopConvention`; a shared
    /// (tied) parameter counts once, in its first row, as in `namedParameters()`.
    /// Parameters whose dotted name (as in `namedParameters()`) matches one of the `frozen`
    /// globs count as frozen, as do those with `requiresGrad == false` (the Trainer's `freeze`
    /// option leaves `requiresGrad` alone and takes the same globs).
    /// - Throws: `CohortError.shapeMismatch` naming the layer when `inputShape` does not fit it.
    public func summary(inputShape: [Int], maxDepth: Int? = nil, frozen: [String] = []) throws -> ModelSummary {
        guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 >= 1 }) else {
            throw CohortError.invalidParameter(name: "inputShape", "must be positive sizes, batch first, got \(describeShape(inputShape))")
        }
        var walk = SummaryWalk()
        walk.frozen = Set(namedParameters().filter { p in frozen.contains { globMatches($0, p.name) } }.map { ObjectIdentifier($0.tensor) })
        let root = try walk.node(self, name: "", depth: -1, input: inputShape)
        var rows: [LayerSummary] = []
        func flatten(_ n: SummaryWalk.Node) {
            for c in n.children {
                let expand = !c.children.isEmpty && (maxDepth.map { c.row.depth + 1 < $0 } ?? true)
                var row = c.row
                row.isGroup = expand
                rows.append(row)
                if expand { flatten(c) }
            }
        }
        if root.children.isEmpty {
            var row = root.row
            (row.name, row.depth) = (row.type, 0)
            rows = [row]
        } else {
            flatten(root)
        }
        let buffers = namedBuffers().reduce(0) { $0 + $1.tensor.count }
        return ModelSummary(type: root.row.type, inputShape: inputShape, outputShape: root.row.outputShape, layers: rows,
                            trainableParameters: root.row.trainableParameters, frozenParameters: root.row.frozenParameters,
                            bufferElements: buffers, flops: root.row.flops, activationElements: root.row.activationElements)
    }
}

extension ModelSummary {
    /// `activationElements` when every `blockType` group recomputes its activations in backward
    /// (activation checkpointing): each such block keeps only its input (the size of its output,
    /// for the residual blocks it applies to), plus one block's activations at a time while its
    /// backward runs. Without such blocks, `activationElements`.
    public func activationElements(checkpointing blockType: String) -> Int {
        let blocks = layers.filter { $0.isGroup && $0.type == blockType }
        guard let largest = blocks.map(\.activationElements).max() else { return activationElements }
        let kept = blocks.reduce(0) { $0 + $1.activationElements }, inputs = blocks.reduce(0) { $0 + $1.outputShape.reduce(1, *) }
        return activationElements - kept + inputs + largest
    }
}
