// Per layer type, for `Module.summary(inputShape:)`: the output shape for an input shape,
// the forward FLOPs (2 per multiply-add, 1 per bias addition) and the floats kept for the
// backward, from the layer's sizes alone.
import CohortCore
import CohortTensor

extension SummaryWalk {
    /// What one layer of a known type makes of an input of shape `s`; nil for other types.
    /// - Throws: `CohortError.shapeMismatch` naming `layer` when `s` does not fit it.
    static func leaf(_ m: any Module, _ s: [Int], layer: String) throws -> (output: [Int], flops: Int, activations: Int)? {
        let n = s.reduce(1, *)
        func require(_ ok: Bool, _ expected: String) throws {
            guard ok else { throw CohortError.shapeMismatch(op: "summary", "layer \(layer) (\(Swift.type(of: m))) takes \(expected), got \(describeShape(s))") }
        }
        switch m {
        case let l as Linear:
            try require(s.last == l.inFeatures, "[…, \(l.inFeatures)]")
            let rows = n / max(l.inFeatures, 1)
            return (Array(s.dropLast()) + [l.outFeatures], rows * (2 * l.inFeatures * l.outFeatures + (l.bias == nil ? 0 : l.outFeatures)),
                    rows * l.outFeatures)
        case let c as Conv2d:
            try require(s.count == 4 && s[1] == c.inChannels, "[N, \(c.inChannels), H, W]")
            try require(c.stride.first >= 1 && c.stride.second >= 1 && c.dilation.first >= 1 && c.dilation.second >= 1, "a stride and dilation ≥ 1")
            let oh = (s[2] + 2 * c.padding.first - c.dilation.first * (c.kernelSize.first - 1) - 1) / c.stride.first + 1
            let ow = (s[3] + 2 * c.padding.second - c.dilation.second * (c.kernelSize.second - 1) - 1) / c.stride.second + 1
            let pool = c.fuseMaxPool ?? 1
            try require(oh >= pool && ow >= pool && pool >= 1, "an image at least as large as the kernel \(c.kernelSize)")
            let perOutput = 2 * (c.inChannels / c.groups) * c.kernelSize.first * c.kernelSize.second + (c.bias == nil ? 0 : 1)
            let output = [s[0], c.outChannels, oh / pool, ow / pool]
            return (output, s[0] * c.outChannels * oh * ow * perOutput, output.reduce(1, *))
        case is Conv1d, is ConvTranspose2d, is Upsample:
            return try resampling(m, s, require)
        case let p as MaxPool2d:
            return try pooled(s, p.kernelSize, p.stride ?? p.kernelSize, p.padding, require)
        case let p as AvgPool2d:
            return try pooled(s, p.kernelSize, p.stride ?? p.kernelSize, p.padding, require)
        case let p as AdaptiveAvgPool2d:
            try require(s.count == 3 || s.count == 4, "[N, C, H, W]")
            let output = Array(s.dropLast(2)) + [p.outputSize.first, p.outputSize.second]
            return (output, 0, output.reduce(1, *))
        case is Flatten:
            return ([s[0], n / s[0]], 0, 0)   // a view: keeps nothing
        case let r as Reshape:
            try require(n / s[0] == r.shape.reduce(1, *), "samples of \(r.shape.reduce(1, *)) elements")
            return ([s[0]] + r.shape, 0, 0)
        case let u as Unflatten:
            let a = u.axis < 0 ? u.axis + s.count : u.axis
            try require(a >= 0 && a < s.count && s[a] == u.sizes.reduce(1, *), "dimension \(u.axis) of \(u.sizes.reduce(1, *)) elements")
            return (Array(s[..<a]) + u.sizes + Array(s[(a + 1)...]), 0, 0)
        case let norm as LayerNorm:
            try require(s.last == norm.features, "[…, \(norm.features)]")
            return (s, 0, n)
        case let norm as BatchNormBase:
            try require(s.count >= 2 && s[1] == norm.numFeatures, "[N, \(norm.numFeatures), …]")
            return (s, 0, n)
        case is ReLU, is GELU, is Tanh, is Sigmoid, is Softmax, is Dropout, is LeakyReLU, is ELU, is SiLU, is Softplus, is Mish, is PReLU:
            return (s, 0, n)
        case let e as Embedding:
            return (s + [e.dimension], 0, n * e.dimension)
        case let r as RecurrentBase:
            return try recurrent(r, s, require)
        default:
            return nil
        }
    }

    /// Conv1d (as Conv2d along one axis), ConvTranspose2d (2·(O/groups)·kh·kw per input element, plus
    /// the bias per output; keeps its input) and Upsample (bilinear: 9 per output; keeps nothing).
    static func resampling(_ m: any Module, _ s: [Int],
                           _ require: (Bool, String) throws -> Void) throws -> (output: [Int], flops: Int, activations: Int) {
        switch m {
        case let c as Conv1d:
            try require(s.count == 3 && s[1] == c.inChannels && c.stride >= 1 && c.dilation >= 1, "[N, \(c.inChannels), L]")
            let ol = (s[2] + 2 * c.padding - c.dilation * (c.kernelSize - 1) - 1) / c.stride + 1
            try require(ol >= 1, "a sequence at least as long as the kernel \(c.kernelSize)")
            let per = 2 * (c.inChannels / c.groups) * c.kernelSize + (c.bias == nil ? 0 : 1)
            return ([s[0], c.outChannels, ol], s[0] * c.outChannels * ol * per, s[0] * c.outChannels * ol)
        case let c as ConvTranspose2d:
            try require(s.count == 4 && s[1] == c.inChannels, "[N, \(c.inChannels), H, W]")
            let (k, st, p, op, d) = (c.kernelSize, c.stride, c.padding, c.outputPadding, c.dilation)
            let oh = (s[2] - 1) * st.first - 2 * p.first + d.first * (k.first - 1) + op.first + 1
            let ow = (s[3] - 1) * st.second - 2 * p.second + d.second * (k.second - 1) + op.second + 1
            try require(oh >= 1 && ow >= 1, "an image the padding \(p) does not crop away")
            let output = [s[0], c.outChannels, oh, ow], outCount = output.reduce(1, *)
            let flops = 2 * s.reduce(1, *) * (c.outChannels / c.groups) * k.first * k.second + (c.bias == nil ? 0 : outCount)
            return (output, flops, s.reduce(1, *))
        case let u as Upsample:
            try require(s.count == 4, "[N, C, H, W]")
            let oh = u.size?.first ?? Int((Double(s[2]) * Double(u.scaleFactor ?? 1)).rounded(.down))
            let ow = u.size?.second ?? Int((Double(s[3]) * Double(u.scaleFactor ?? 1)).rounded(.down))
            try require(oh >= 1 && ow >= 1, "an image that stays at least 1×1")
            let output = [s[0], s[1], oh, ow]
            return (output, u.mode == .bilinear ? 9 * output.reduce(1, *) : 0, 0)
        default:
            preconditionFailure("resampling: \(type(of: m))")
        }
    }

    /// Max or average pooling: `oh = (H + 2·ph - kh) / sh + 1` (likewise `ow`).
    static func pooled(_ s: [Int], _ k: IntOrPair, _ stride: IntOrPair, _ p: IntOrPair,
                       _ require: (Bool, String) throws -> Void) throws -> (output: [Int], flops: Int, activations: Int) {
        try require(s.count == 3 || s.count == 4, "[N, C, H, W]")
        try require(stride.first >= 1 && stride.second >= 1, "a stride ≥ 1")
        let oh = (s[s.count - 2] + 2 * p.first - k.first) / stride.first + 1
        let ow = (s[s.count - 1] + 2 * p.second - k.second) / stride.second + 1
        try require(oh >= 1 && ow >= 1, "an image at least as large as the window \(k)")
        let output = Array(s.dropLast(2)) + [oh, ow]
        return (output, 0, output.reduce(1, *))
    }

    /// A stacked RNN/LSTM/GRU on `[B, T, F]`: per step and layer, the input and hidden
    /// products of every gate (2·G·(F + H) with G = gates·H) plus the two bias additions;
    /// keeps each step's gates and states (an estimate: G + 2·H floats per step and layer).
    static func recurrent(_ r: RecurrentBase, _ s: [Int],
                          _ require: (Bool, String) throws -> Void) throws -> (output: [Int], flops: Int, activations: Int) {
        try require(s.count == 3 && s[2] == r.inputSize, "[batch, steps, \(r.inputSize)]")
        let steps = s[0] * s[1], h = r.hiddenSize
        var flops = 0, kept = 0
        for w in r.stack.weights {
            let gates = w.ih.shape[0], inputs = w.ih.shape[1]
            flops += steps * (2 * gates * (inputs + h) + (w.bih == nil ? 0 : gates) + (w.bhh == nil ? 0 : gates))
            kept += steps * (gates + 2 * h)
        }
        return ([s[0], s[1], h], flops, kept)
    }
}
