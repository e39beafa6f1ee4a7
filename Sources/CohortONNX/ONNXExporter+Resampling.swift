// ONNX mappings of the activations LeakyReLU, ELU, SiLU, Softplus, Mish and PReLU
// (opset 17 has no SiLU or Mish node: x·Sigmoid(x), x·Tanh(Softplus(x))) and of
// Conv1d (Conv), ConvTranspose2d (ConvTranspose) and Upsample (Resize).
import CohortNN
import CohortTensor

extension ONNXExporter {
    static var resamplingMappings: [Mapping] {
        [
            Mapping(LeakyReLU.self) { m, c, x, p in c.graph.unary("LeakyRelu", x, name: p + "leaky_relu", attributes: [("alpha", .float(m.negativeSlope))]) },
            Mapping(ELU.self) { m, c, x, p in c.graph.unary("Elu", x, name: p + "elu", attributes: [("alpha", .float(m.alpha))]) },
            Mapping(SiLU.self) { _, c, x, p in c.graph.binary("Mul", x, c.graph.unary("Sigmoid", x, name: p + "silu_sigmoid"), name: p + "silu") },
            Mapping(Softplus.self) { m, c, x, p in softplus(&c.graph, x, beta: m.beta, threshold: m.threshold, path: p) },
            Mapping(Mish.self) { _, c, x, p in
                let t = c.graph.unary("Tanh", c.graph.unary("Softplus", x, name: p + "mish_softplus"), name: p + "mish_tanh")
                return c.graph.binary("Mul", x, t, name: p + "mish")
            },
            Mapping(PReLU.self) { m, c, x, p in
                // ONNX broadcasts the slope from the right: [C] becomes [C, 1, …] for the channels of [N, C, …].
                let shape = m.numParameters == 1 ? [1] : [m.numParameters] + Array(repeating: 1, count: Swift.max(x.rank - 2, 0))
                let slope = c.graph.constant(floats: m.weight.scalars, shape: shape, name: p + "weight")
                return c.graph.node("PRelu", [x, slope], name: p + "prelu", shape: x.shape)
            },
            Mapping(Conv1d.self) { m, c, x, p in
                guard x.rank == 3, x.shape[1].size == m.inChannels else {
                    throw ONNXExportError.unsupportedInput(type: "Conv1d", path: display(p), "input \(x.shape) must be [N, \(m.inChannels), L]")
                }
                let ol = windowOutput(x.shape[2], kernel: m.kernelSize, stride: m.stride, pad: m.padding, dilation: m.dilation, name: p + "l")
                let w = c.graph.weight(m.weight, name: p + "weight"), b = m.bias.map { c.graph.initializer($0, name: p + "bias") }
                return c.graph.node("Conv", [x, w] + (b.map { [$0] } ?? []), name: p + "conv", shape: [x.shape[0], .fixed(m.outChannels), ol],
                                    attributes: [("kernel_shape", .ints([m.kernelSize])), ("strides", .ints([m.stride])),
                                                 ("pads", .ints([m.padding, m.padding])), ("dilations", .ints([m.dilation])), ("group", .int(m.groups))])
            },
            Mapping(ConvTranspose2d.self) { m, c, x, p in try convTranspose(m, &c.graph, x, path: p) },
            Mapping(Upsample.self) { m, c, x, p in try upsample(m, &c.graph, x, path: p) },
        ]
    }

    /// PyTorch's softplus: `Softplus(βx)/β`, and `x` where `βx > threshold` (a Where, unless β = 1 and
    /// the threshold is ≥ 20, where the two differ by less than e⁻²⁰).
    static func softplus(_ g: inout ONNXGraphBuilder, _ x: ONNXValue, beta: Float, threshold: Float, path: String) -> ONNXValue {
        let bx = beta == 1 ? x : g.binary("Mul", x, g.scalar(beta, name: path + "softplus_beta"), name: path + "softplus_bx")
        var y = g.unary("Softplus", bx, name: path + "softplus_raw")
        if beta != 1 { y = g.binary("Div", y, g.scalar(beta, name: path + "softplus_inv_beta"), name: path + "softplus_scaled") }
        guard beta != 1 || threshold < 20 else { return y }
        let above = g.node("Greater", [bx, g.scalar(threshold, name: path + "softplus_threshold")], name: path + "softplus_above",
                           type: .bool, shape: x.shape)
        return g.node("Where", [above, x, y], name: path + "softplus", type: x.type, shape: x.shape)
    }

    static func convTranspose(_ m: ConvTranspose2d, _ g: inout ONNXGraphBuilder, _ x: ONNXValue, path: String) throws -> ONNXValue {
        guard x.rank == 4, x.shape[1].size == m.inChannels else {
            throw ONNXExportError.unsupportedInput(type: "ConvTranspose2d", path: display(path), "input \(x.shape) must be [N, \(m.inChannels), H, W]")
        }
        let (k, s, pd, op, d) = (m.kernelSize, m.stride, m.padding, m.outputPadding, m.dilation)
        func size(_ dim: ONNXDim, _ k: Int, _ s: Int, _ p: Int, _ op: Int, _ d: Int, _ name: String) -> ONNXDim {
            dim.size.map { .fixed(($0 - 1) * s - 2 * p + d * (k - 1) + op + 1) } ?? .named(path + name)
        }
        let oh = size(x.shape[2], k.first, s.first, pd.first, op.first, d.first, "h")
        let ow = size(x.shape[3], k.second, s.second, pd.second, op.second, d.second, "w")
        // The weight is [C, O/groups, kh, kw]: stored as float (weight quantization assumes output channels first).
        let w = g.initializer(m.weight, name: path + "weight"), b = m.bias.map { g.initializer($0, name: path + "bias") }
        return g.node("ConvTranspose", [x, w] + (b.map { [$0] } ?? []), name: path + "conv_transpose",
                      shape: [x.shape[0], .fixed(m.outChannels), oh, ow],
                      attributes: [("kernel_shape", .ints([k.first, k.second])), ("strides", .ints([s.first, s.second])),
                                   ("pads", .ints([pd.first, pd.second, pd.first, pd.second])),
                                   ("output_padding", .ints([op.first, op.second])), ("dilations", .ints([d.first, d.second])),
                                   ("group", .int(m.groups))])
    }

    /// Resize with PyTorch's coordinates: nearest is `asymmetric` + `floor`, bilinear `pytorch_half_pixel`;
    /// a scale factor is passed as scales (ONNX then steps by 1/scale, as PyTorch), a size as sizes.
    static func upsample(_ m: Upsample, _ g: inout ONNXGraphBuilder, _ x: ONNXValue, path: String) throws -> ONNXValue {
        guard x.rank == 4 else {
            throw ONNXExportError.unsupportedInput(type: "Upsample", path: display(path), "input \(x.shape) must be [N, C, H, W]")
        }
        var inputs = [x.name, ""], shape = x.shape
        if let f = m.scaleFactor {
            inputs.append(g.constant(floats: [1, 1, f, f], shape: [4], name: path + "scales").name)
            for i in 2..<4 { shape[i] = x.shape[i].size.map { .fixed(Int((Double($0) * Double(f)).rounded(.down))) } ?? .named(path + "hw\(i)") }
        } else if let s = m.size {
            shape[2] = .fixed(s.first); shape[3] = .fixed(s.second)
            // Sizes must be given for every axis: batch and channels are copied from the input's shape.
            let dims = g.node("Shape", [x], name: path + "shape", type: .int64, shape: [.fixed(4)])
            let nc = g.node("Slice", [dims, g.constant(ints: [0], name: path + "nc_start"), g.constant(ints: [2], name: path + "nc_end")],
                            name: path + "nc", type: .int64, shape: [.fixed(2)])
            let full = g.node("Concat", [nc, g.constant(ints: [s.first, s.second], name: path + "hw")], name: path + "out_size",
                              type: .int64, shape: [.fixed(4)], attributes: [("axis", .int(0))])
            inputs += ["", full.name]
        }
        let attrs: [(name: String, value: ONNXAttributeValue)] = m.mode == .nearest
            ? [("mode", .string("nearest")), ("coordinate_transformation_mode", .string("asymmetric")), ("nearest_mode", .string("floor"))]
            : [("mode", .string("linear")), ("coordinate_transformation_mode", .string("pytorch_half_pixel"))]
        return g.node("Resize", inputNames: inputs, outputs: [(name: path + "resize", type: x.type, shape: shape)], name: path + "resize",
                      attributes: attrs)[0]
    }
}
