// Conv1d, ConvTranspose2d and Upsample, named, shaped and initialised as PyTorch's
// modules (kaiming-uniform with a = √5 on the weight, bias U(±1/√fanIn), fanIn from
// the weight's dimension 1 times the kernel, as torch computes it for both).
import CohortCore
import CohortTensor

/// Draws a convolution weight of `shape` and its bias of `biasCount` as PyTorch's `_ConvNd.reset_parameters`.
func convParameters(_ shape: [Int], biasCount: Int?, generator: inout RandomGenerator) throws -> (Tensor, Tensor?) {
    let w = Tensor.zeros(shape)
    try Init.kaimingUniform(w, a: Float(5).squareRoot(), generator: &generator)
    let bound = 1 / Float(Init.fans(w).0).squareRoot()
    return (parameter(w), biasCount.map { parameter(Tensor.rand([$0], low: -bound, high: bound, generator: &generator)) })
}

/// 1-D convolution over `[N, C, L]` (`torch.nn.Conv1d`): weight `[O, C/groups, k]`, bias `[O]`;
/// output `[N, O, ol]` with `ol = (L + 2·p - d·(k-1) - 1) / s + 1`.
public final class Conv1d: Module {
    /// `[outChannels, inChannels / groups, kernelSize]`.
    public let weight: Tensor
    /// `[outChannels]`, or nil.
    public let bias: Tensor?
    public var isTraining = true
    public let inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int, padding: Int, dilation: Int, groups: Int

    /// Creates the layer with PyTorch's default initialisation, drawing the weight then the bias from `generator`.
    /// - Throws: `CohortError.invalidArgument` if a size is not positive or the channels are not divisible by `groups`.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                groups: Int = 1, bias: Bool = true, generator: inout RandomGenerator) throws {
        guard inChannels >= 1, outChannels >= 1, groups >= 1, inChannels % groups == 0, outChannels % groups == 0, kernelSize >= 1 else {
            throw CohortError.invalidArgument("Conv1d(\(inChannels), \(outChannels), k=\(kernelSize)): sizes must be positive, channels divisible by groups \(groups)")
        }
        self.inChannels = inChannels; self.outChannels = outChannels; self.kernelSize = kernelSize
        self.stride = stride; self.padding = padding; self.dilation = dilation; self.groups = groups
        (weight, self.bias) = try convParameters([outChannels, inChannels / groups, kernelSize], biasCount: bias ? outChannels : nil,
                                                 generator: &generator)
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        bias.map { [("weight", weight), ("bias", $0)] } ?? [("weight", weight)]
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 3, x.shape[1] == inChannels else {
            throw CohortError.shapeMismatch(op: "Conv1d(\(inChannels)→\(outChannels), k=\(kernelSize))",
                                            "input \(describeShape(x.shape)) must be [N, \(inChannels), L]")
        }
        return try Tensor.conv1d(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// Transposed 2-D convolution over `[N, C, H, W]` (`torch.nn.ConvTranspose2d`): weight
/// `[C, O/groups, kh, kw]`, bias `[O]`; output `[N, O, oh, ow]` with
/// `oh = (H - 1)·sh - 2·ph + dh·(kh - 1) + oph + 1`.
public final class ConvTranspose2d: Module {
    /// `[inChannels, outChannels / groups, kh, kw]`.
    public let weight: Tensor
    /// `[outChannels]`, or nil.
    public let bias: Tensor?
    public var isTraining = true
    public let inChannels: Int, outChannels: Int, groups: Int
    public let kernelSize: IntOrPair, stride: IntOrPair, padding: IntOrPair, outputPadding: IntOrPair, dilation: IntOrPair

    /// Creates the layer with PyTorch's default initialisation, drawing the weight then the bias from `generator`.
    /// - Throws: `CohortError.invalidArgument` if a size is not positive, the channels are not divisible
    ///   by `groups`, or the output padding is not smaller than the stride.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: IntOrPair, stride: IntOrPair = 1, padding: IntOrPair = 0,
                outputPadding: IntOrPair = 0, groups: Int = 1, bias: Bool = true, dilation: IntOrPair = 1,
                generator: inout RandomGenerator) throws {
        guard inChannels >= 1, outChannels >= 1, groups >= 1, inChannels % groups == 0, outChannels % groups == 0,
              kernelSize.first >= 1, kernelSize.second >= 1 else {
            throw CohortError.invalidArgument("ConvTranspose2d(\(inChannels), \(outChannels), k=\(kernelSize)): sizes must be positive, channels divisible by groups \(groups)")
        }
        guard outputPadding.first >= 0, outputPadding.second >= 0, outputPadding.first < stride.first, outputPadding.second < stride.second else {
            throw CohortError.invalidArgument("ConvTranspose2d: output padding \(outputPadding) must be ≥ 0 and smaller than the stride \(stride)")
        }
        self.inChannels = inChannels; self.outChannels = outChannels; self.groups = groups
        self.kernelSize = kernelSize; self.stride = stride; self.padding = padding; self.outputPadding = outputPadding; self.dilation = dilation
        (weight, self.bias) = try convParameters([inChannels, outChannels / groups, kernelSize.first, kernelSize.second],
                                                 biasCount: bias ? outChannels : nil, generator: &generator)
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        bias.map { [("weight", weight), ("bias", $0)] } ?? [("weight", weight)]
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == inChannels else {
            throw CohortError.shapeMismatch(op: "ConvTranspose2d(\(inChannels)→\(outChannels), \(kernelSize))",
                                            "input \(describeShape(x.shape)) must be [N, \(inChannels), H, W]")
        }
        return try Tensor.convTranspose2d(x, weight: weight, bias: bias, stride: stride, padding: padding, outputPadding: outputPadding,
                                          dilation: dilation, groups: groups)
    }
}

/// Resizes `[N, C, H, W]` images (`torch.nn.Upsample`, align_corners = false) to `size` or by
/// `scaleFactor`, nearest or bilinear. No parameters.
public final class Upsample: Module {
    public var isTraining = true
    public let size: IntOrPair?, scaleFactor: Float?, mode: UpsampleMode

    /// - Throws: `CohortError.invalidArgument` unless exactly one of `size` and `scaleFactor` is given.
    public init(size: IntOrPair? = nil, scaleFactor: Float? = nil, mode: UpsampleMode = .nearest) throws {
        guard (size == nil) != (scaleFactor == nil) else { throw CohortError.invalidArgument("Upsample: give exactly one of size and scaleFactor") }
        self.size = size; self.scaleFactor = scaleFactor; self.mode = mode
    }

    public func forward(_ x: Tensor) throws -> Tensor { try Tensor.upsample2d(x, size: size, scaleFactor: scaleFactor, mode: mode) }
}
