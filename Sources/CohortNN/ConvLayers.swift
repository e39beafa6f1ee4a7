// Convolutional layers: Conv2d, the pooling layers, reshaping layers that turn
// flat `[N, 784]` rows into images, and a ResNet basic block. Initialisation
// follows PyTorch's defaults (kaiming-uniform with a = √5, bias U(±1/√fanIn)).
import CohortCore
import CohortTensor

/// 2-D convolution over `[N, C, H, W]` inputs: weight `[O, C/groups, kh, kw]`, bias `[O]`.
/// Output `[N, O, oh, ow]` with `oh = (H + 2·ph - dh·(kh-1) - 1) / sh + 1`.
/// With `fuseReLU` the layer computes `relu(conv(x))` in one pass (no separate `ReLU` needed);
/// with `fuseMaxPool: k` also the k×k max pooling (stride k) that follows (no separate `MaxPool2d`).
public final class Conv2d: Module {
    /// `[outChannels, inChannels / groups, kh, kw]`.
    public let weight: Tensor
    /// `[outChannels]`, or nil.
    public let bias: Tensor?
    public var isTraining = true
    public let inChannels: Int, outChannels: Int, groups: Int
    public let kernelSize: IntOrPair, stride: IntOrPair, padding: IntOrPair, dilation: IntOrPair
    /// Whether `max(·, 0)` is applied to the output.
    public let fuseReLU: Bool
    /// The fused max-pooling window (and stride), if any.
    public let fuseMaxPool: Int?

    /// Creates the layer with PyTorch's default initialisation, drawing the weight then the bias from `generator`.
    /// - Throws: `CohortError.invalidArgument` if the channels are not divisible by `groups`
    ///   or a size is not positive.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: IntOrPair, stride: IntOrPair = 1, padding: IntOrPair = 0,
                dilation: IntOrPair = 1, groups: Int = 1, bias: Bool = true, fuseReLU: Bool = false, fuseMaxPool: Int? = nil,
                generator: inout RandomGenerator) throws {
        guard inChannels >= 1, outChannels >= 1, groups >= 1, inChannels % groups == 0, outChannels % groups == 0 else {
            throw CohortError.invalidArgument("Conv2d(\(inChannels), \(outChannels)): channels must be positive and divisible by groups \(groups)")
        }
        guard kernelSize.first >= 1, kernelSize.second >= 1 else {
            throw CohortError.invalidArgument("Conv2d: kernel size must be ≥ 1, got \(kernelSize)")
        }
        self.inChannels = inChannels; self.outChannels = outChannels; self.groups = groups
        self.kernelSize = kernelSize; self.stride = stride; self.padding = padding; self.dilation = dilation
        self.fuseReLU = fuseReLU
        self.fuseMaxPool = fuseMaxPool
        let w = Tensor.zeros([outChannels, inChannels / groups, kernelSize.first, kernelSize.second])
        try Init.kaimingUniform(w, a: Float(5).squareRoot(), generator: &generator)
        weight = parameter(w)
        let bound = 1 / Float(Init.fans(w).0).squareRoot()
        self.bias = bias ? parameter(Tensor.rand([outChannels], low: -bound, high: bound, generator: &generator)) : nil
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        bias.map { [("weight", weight), ("bias", $0)] } ?? [("weight", weight)]
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        try Tensor.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
                          groups: groups, fuseReLU: fuseReLU, fuseMaxPool: fuseMaxPool)
    }
}

/// Max pooling over the last two dimensions (`Tensor.maxPool2d`); stride defaults to the kernel size.
public final class MaxPool2d: Module {
    public var isTraining = true
    public let kernelSize: IntOrPair, stride: IntOrPair?, padding: IntOrPair
    public init(_ kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0) {
        self.kernelSize = kernelSize; self.stride = stride; self.padding = padding
    }
    public func forward(_ x: Tensor) throws -> Tensor { try x.maxPool2d(kernel: kernelSize, stride: stride, padding: padding) }
}

/// Average pooling over the last two dimensions (`Tensor.avgPool2d`, padding counted in the divisor).
public final class AvgPool2d: Module {
    public var isTraining = true
    public let kernelSize: IntOrPair, stride: IntOrPair?, padding: IntOrPair
    public init(_ kernelSize: IntOrPair, stride: IntOrPair? = nil, padding: IntOrPair = 0) {
        self.kernelSize = kernelSize; self.stride = stride; self.padding = padding
    }
    public func forward(_ x: Tensor) throws -> Tensor { try x.avgPool2d(kernel: kernelSize, stride: stride, padding: padding) }
}

/// Adaptive average pooling to a fixed `[oh, ow]` (`1` gives global average pooling).
public final class AdaptiveAvgPool2d: Module {
    public var isTraining = true
    public let outputSize: IntOrPair
    public init(_ outputSize: IntOrPair) { self.outputSize = outputSize }
    public func forward(_ x: Tensor) throws -> Tensor { try x.adaptiveAvgPool2d(outputSize) }
}

/// Splits dimension `axis` into `sizes` (PyTorch's `nn.Unflatten`): `[N, 784] → [N, 1, 28, 28]`
/// with `Unflatten(axis: 1, sizes: [1, 28, 28])`. A view when the input is contiguous.
public final class Unflatten: Module {
    public var isTraining = true
    public let axis: Int, sizes: [Int]
    public init(axis: Int, sizes: [Int]) { self.axis = axis; self.sizes = sizes }

    /// - Throws: `CohortError.shapeMismatch` if the input's dimension `axis` does not hold `sizes`.
    public func forward(_ x: Tensor) throws -> Tensor {
        let a = axis < 0 ? axis + x.rank : axis
        guard a >= 0, a < x.rank, x.shape[a] == sizes.reduce(1, *), sizes.allSatisfy({ $0 >= 1 }) else {
            throw CohortError.shapeMismatch(op: "Unflatten(axis: \(axis), sizes: \(describeShape(sizes)))",
                                            "input \(describeShape(x.shape)) has no dimension \(axis) of \(sizes.reduce(1, *)) elements")
        }
        return try x.reshape(Array(x.shape[..<a]) + sizes + Array(x.shape[(a + 1)...]))
    }
}

/// Views every sample (all dimensions after the first) as `shape`: `[N, 784]` and
/// `[N, 1, 28, 28]` both become `[N] + shape`.
public final class Reshape: Module {
    public var isTraining = true
    public let shape: [Int]
    public init(_ shape: [Int]) { self.shape = shape }

    /// - Throws: `CohortError.shapeMismatch` if a sample does not have `shape`'s element count.
    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape.dropFirst().reduce(1, *) == shape.reduce(1, *) else {
            throw CohortError.shapeMismatch(op: "Reshape(\(describeShape(shape)))",
                                            "input \(describeShape(x.shape)) does not hold samples of \(shape.reduce(1, *)) elements")
        }
        return try x.reshape([x.shape[0]] + shape)
    }
}

/// ResNet basic block: `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))` with 3×3
/// convolutions (the first with `stride`) and, when the shape changes, a 1×1 convolution
/// plus batch norm as the shortcut (otherwise the identity).
/// Children: `conv1`, `bn1`, `conv2`, `bn2` and, if present, `shortcut`.
public final class ResidualBlock: Module {
    public var isTraining = true
    public let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d
    /// The 1×1 projection (`Sequential([Conv2d, BatchNorm2d])`), nil for the identity.
    public let shortcut: Sequential?

    /// - Throws: `CohortError.invalidArgument` for non-positive channels or stride.
    public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1, generator: inout RandomGenerator) throws {
        guard stride >= 1 else { throw CohortError.invalidArgument("ResidualBlock: stride must be ≥ 1, got \(stride)") }
        conv1 = try Conv2d(inChannels, outChannels, kernelSize: 3, stride: IntOrPair(stride), padding: 1, bias: false, generator: &generator)
        bn1 = BatchNorm2d(outChannels)
        conv2 = try Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, bias: false, generator: &generator)
        bn2 = BatchNorm2d(outChannels)
        if stride != 1 || inChannels != outChannels {
            shortcut = Sequential([try Conv2d(inChannels, outChannels, kernelSize: 1, stride: IntOrPair(stride), bias: false,
                                              generator: &generator),
                                   BatchNorm2d(outChannels)])
        } else {
            shortcut = nil
        }
    }

    public var children: [(name: String, module: any Module)] {
        var c: [(name: String, module: any Module)] = [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)]
        if let shortcut { c.append(("shortcut", shortcut)) }
        return c
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        let h = try bn1(conv1(x)).relu()
        let y = try bn2(conv2(h))
        return try (y + (shortcut.map { try $0(x) } ?? x)).relu()
    }
}
