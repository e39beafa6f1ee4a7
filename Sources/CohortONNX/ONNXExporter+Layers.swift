// ONNX mappings of the feed-forward layers: containers, Linear, activations,
// Flatten/Reshape/Unflatten, Conv2d (with its fused ReLU and max-pool), pooling,
// batch norm in evaluation form (running statistics) and the ResNet block.
import CohortNN
import CohortTensor

extension ONNXExporter {
    static var basicMappings: [Mapping] {
        [
            Mapping(Sequential.self) { m, c, x, p in
                var h = x
                for (name, child) in m.children { h = try c.emit(child, input: h, path: p + name + ".") }
                return h
            },
            Mapping(Linear.self) { m, c, x, p in
                guard x.rank >= 1, x.shape.last?.size == m.inFeatures else {
                    throw ONNXExportError.unsupportedInput(type: "Linear", path: display(p),
                                                           "input \(x.shape) must end in \(m.inFeatures) features")
                }
                return c.graph.linear(x, weight: m.weight, bias: m.bias, path: p)
            },
            Mapping(ReLU.self) { _, c, x, p in c.graph.unary("Relu", x, name: p + "relu") },
            Mapping(Tanh.self) { _, c, x, p in c.graph.unary("Tanh", x, name: p + "tanh") },
            Mapping(Sigmoid.self) { _, c, x, p in c.graph.unary("Sigmoid", x, name: p + "sigmoid") },
            Mapping(GELU.self) { _, c, x, p in gelu(&c.graph, x, path: p) },
            Mapping(Softmax.self) { m, c, x, p in c.graph.unary("Softmax", x, name: p + "softmax", attributes: [("axis", .int(m.axis))]) },
            Mapping(Dropout.self) { _, _, x, _ in x },   // identity in evaluation
            Mapping(Flatten.self) { _, c, x, p in
                let rest = x.shape.dropFirst()
                let flat: ONNXDim = rest.allSatisfy { $0.size != nil } ? .fixed(rest.reduce(1) { $0 * $1.size! }) : .named("flat")
                return c.graph.node("Flatten", [x], name: p + "flatten", shape: [x.shape[0], flat], attributes: [("axis", .int(1))])
            },
            Mapping(Reshape.self) { m, c, x, p in
                c.graph.reshape(x, to: [0] + m.shape, shape: [x.shape[0]] + m.shape.map { .fixed($0) }, name: p + "reshape")
            },
            Mapping(Unflatten.self) { m, c, x, p in
                let a = m.axis < 0 ? m.axis + x.rank : m.axis
                guard a >= 0, a < x.rank, x.shape[(a + 1)...].allSatisfy({ $0.size != nil }) else {
                    throw ONNXExportError.unsupportedInput(type: "Unflatten", path: display(p),
                                                           "axis \(m.axis) of input \(x.shape) (dimensions after it must be fixed)")
                }
                let target = Array(repeating: 0, count: a) + m.sizes + x.shape[(a + 1)...].map { $0.size! }
                let shape = Array(x.shape[..<a]) + m.sizes.map { ONNXDim.fixed($0) } + Array(x.shape[(a + 1)...])
                return c.graph.reshape(x, to: target, shape: shape, name: p + "unflatten")
            },
            Mapping(Conv2d.self) { m, c, x, p in try conv(m, &c.graph, x, path: p) },
            Mapping(MaxPool2d.self) { m, c, x, p in
                try pool("MaxPool", &c.graph, x, kernel: m.kernelSize, stride: m.stride ?? m.kernelSize, padding: m.padding, path: p)
            },
            Mapping(AvgPool2d.self) { m, c, x, p in
                try pool("AveragePool", &c.graph, x, kernel: m.kernelSize, stride: m.stride ?? m.kernelSize, padding: m.padding, path: p)
            },
            Mapping(AdaptiveAvgPool2d.self) { m, c, x, p in try adaptiveAvgPool(m, &c.graph, x, path: p) },
            Mapping(BatchNorm1d.self) { m, c, x, p in batchNorm(m, &c.graph, x, path: p) },
            Mapping(BatchNorm2d.self) { m, c, x, p in batchNorm(m, &c.graph, x, path: p) },
            Mapping(ResidualBlock.self) { m, c, x, p in
                let h1 = try c.emit(m.bn1, input: c.emit(m.conv1, input: x, path: p + "conv1."), path: p + "bn1.")
                let h = c.graph.unary("Relu", h1, name: p + "relu1")
                let y = try c.emit(m.bn2, input: c.emit(m.conv2, input: h, path: p + "conv2."), path: p + "bn2.")
                let s = try m.shortcut.map { try c.emit($0, input: x, path: p + "shortcut.") } ?? x
                return c.graph.unary("Relu", c.graph.binary("Add", y, s, name: p + "add"), name: p + "relu2")
            },
        ]
    }

    /// Exact (erf) GELU at opset 17, which has no Gelu: `0.5 · x · (1 + erf(x / √2))`.
    static func gelu(_ g: inout ONNXGraphBuilder, _ x: ONNXValue, path: String) -> ONNXValue {
        let e = g.unary("Erf", g.binary("Mul", x, g.scalar(Float(0.5).squareRoot(), name: path + "gelu_rsqrt2"), name: path + "gelu_scaled"),
                        name: path + "gelu_erf")
        let one = g.binary("Add", e, g.scalar(1, name: path + "gelu_one"), name: path + "gelu_1p")
        let half = g.binary("Mul", x, g.scalar(0.5, name: path + "gelu_half"), name: path + "gelu_halfx")
        return g.binary("Mul", half, one, name: path + "gelu")
    }

    /// The output size of a convolution or pooling window along one axis (floor mode), if fixed.
    static func windowOutput(_ d: ONNXDim, kernel: Int, stride: Int, pad: Int, dilation: Int = 1, name: String) -> ONNXDim {
        guard let n = d.size else { return .named(name) }
        return .fixed((n + 2 * pad - dilation * (kernel - 1) - 1) / stride + 1)
    }

    static func conv(_ m: Conv2d, _ g: inout ONNXGraphBuilder, _ x: ONNXValue, path: String) throws -> ONNXValue {
        guard x.rank == 4, x.shape[1].size == m.inChannels else {
            throw ONNXExportError.unsupportedInput(type: "Conv2d", path: display(path), "input \(x.shape) must be [N, \(m.inChannels), H, W]")
        }
        let (k, s, pd, d) = (m.kernelSize, m.stride, m.padding, m.dilation)
        let oh = windowOutput(x.shape[2], kernel: k.first, stride: s.first, pad: pd.first, dilation: d.first, name: path + "h")
        let ow = windowOutput(x.shape[3], kernel: k.second, stride: s.second, pad: pd.second, dilation: d.second, name: path + "w")
        let w = g.weight(m.weight, name: path + "weight")
        let b = m.bias.map { g.initializer($0, name: path + "bias") }
        var y = g.node("Conv", [x, w] + (b.map { [$0] } ?? []), name: path + "conv", shape: [x.shape[0], .fixed(m.outChannels), oh, ow],
                       attributes: [("kernel_shape", .ints([k.first, k.second])), ("strides", .ints([s.first, s.second])),
                                    ("pads", .ints([pd.first, pd.second, pd.first, pd.second])), ("dilations", .ints([d.first, d.second])),
                                    ("group", .int(m.groups))])
        if m.fuseReLU { y = g.unary("Relu", y, name: path + "relu") }
        if let k = m.fuseMaxPool {
            y = try pool("MaxPool", &g, y, kernel: IntOrPair(k), stride: IntOrPair(k), padding: 0, path: path)
        }
        return y
    }

    static func pool(_ op: String, _ g: inout ONNXGraphBuilder, _ x: ONNXValue, kernel k: IntOrPair, stride s: IntOrPair,
                     padding pd: IntOrPair, path: String) throws -> ONNXValue {
        guard x.rank == 4 else {
            throw ONNXExportError.unsupportedInput(type: op, path: display(path), "input \(x.shape) must be [N, C, H, W]")
        }
        let oh = windowOutput(x.shape[2], kernel: k.first, stride: s.first, pad: pd.first, name: path + "h")
        let ow = windowOutput(x.shape[3], kernel: k.second, stride: s.second, pad: pd.second, name: path + "w")
        var attrs: [(name: String, value: ONNXAttributeValue)] = [
            ("kernel_shape", .ints([k.first, k.second])), ("strides", .ints([s.first, s.second])),
            ("pads", .ints([pd.first, pd.second, pd.first, pd.second])),
        ]
        if op == "AveragePool" { attrs.append(("count_include_pad", .int(1))) }   // Cohort counts padding in the divisor
        return g.node(op, [x], name: path + op.lowercased(), shape: [x.shape[0], x.shape[1], oh, ow], attributes: attrs)
    }

    static func adaptiveAvgPool(_ m: AdaptiveAvgPool2d, _ g: inout ONNXGraphBuilder, _ x: ONNXValue, path: String) throws -> ONNXValue {
        guard x.rank == 4 else {
            throw ONNXExportError.unsupportedInput(type: "AdaptiveAvgPool2d", path: display(path), "input \(x.shape) must be [N, C, H, W]")
        }
        let (oh, ow) = (m.outputSize.first, m.outputSize.second)
        if oh == 1 && ow == 1 {
            return g.node("GlobalAveragePool", [x], name: path + "gap", shape: [x.shape[0], x.shape[1], .fixed(1), .fixed(1)])
        }
        // Other sizes are one AveragePool when the input divides evenly (PyTorch's windows are then uniform).
        guard let h = x.shape[2].size, let w = x.shape[3].size, h % oh == 0, w % ow == 0 else {
            throw ONNXExportError.unsupportedInput(type: "AdaptiveAvgPool2d", path: display(path),
                                                   "output \(oh)×\(ow) needs a fixed input size divisible by it, got \(x.shape)")
        }
        return try pool("AveragePool", &g, x, kernel: IntOrPair(h / oh, w / ow), stride: IntOrPair(h / oh, w / ow), padding: 0, path: path)
    }

    /// BatchNormalization with the running statistics (evaluation form); no affine → scale 1, bias 0.
    static func batchNorm(_ m: BatchNormBase, _ g: inout ONNXGraphBuilder, _ x: ONNXValue, path: String) -> ONNXValue {
        let n = m.numFeatures
        let scale = m.weight.map { g.initializer($0, name: path + "weight") } ?? g.constant(floats: .init(repeating: 1, count: n), shape: [n], name: path + "weight")
        let bias = m.bias.map { g.initializer($0, name: path + "bias") } ?? g.constant(floats: .init(repeating: 0, count: n), shape: [n], name: path + "bias")
        let mean = g.initializer(m.runningMean, name: path + "running_mean")
        let variance = g.initializer(m.runningVar, name: path + "running_var")
        return g.node("BatchNormalization", [x, scale, bias, mean, variance], name: path + "batchnorm", shape: x.shape,
                      attributes: [("epsilon", .float(m.eps))])
    }
}
