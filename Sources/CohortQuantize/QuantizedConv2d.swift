// `Conv2d` with int8 weights: each image quantized to uint8 (its own scale when
// dynamic, the calibrated one when static), im2row into `[positions, C·kh·kw]`, one
// int8 GEMM for the whole batch against `[O, C·kh·kw]`, then bias, and the fused
// ReLU / max-pool of the layer it replaces in fp32.
import CohortCore
import CohortNN
import CohortTensor

/// 2-D convolution over `[N, C, H, W]` with int8 weights per output channel (groups 1);
/// output `[N, O, oh, ow]` (pooled when the source layer fused a max-pool).
public final class QuantizedConv2d: Module {
    public var isTraining = false
    public let inChannels: Int, outChannels: Int
    public let kernelSize: IntOrPair, stride: IntOrPair, padding: IntOrPair, dilation: IntOrPair
    public let fuseReLU: Bool, fuseMaxPool: Int?
    /// `[O, C·kh·kw]`.
    public let weight: QuantizedMatrix
    /// `[O]`, fp32.
    public let bias: [Float]?
    /// Static mode: the activation scale from calibration (`max|x| / 127`); nil: per image.
    public let inputScale: Float?

    /// Quantizes `conv`'s weight; `inputScale` from calibration for static activations.
    /// - Throws: `CohortError.invalidArgument` for a grouped convolution (not supported in int8).
    public convenience init(_ conv: Conv2d, inputScale: Float? = nil) throws {
        guard conv.groups == 1 else { throw CohortError.invalidArgument("QuantizedConv2d: groups \(conv.groups) is not supported (only 1)") }
        let k = conv.inChannels * conv.kernelSize.first * conv.kernelSize.second
        try self.init(like: conv, weight: QuantizedMatrix(weights: conv.weight.contiguous().scalars, rows: conv.outChannels, k: k),
                      bias: conv.bias?.contiguous().scalars, inputScale: inputScale)
    }

    /// Stored values, with the sizes, strides and fusions of `conv`.
    /// - Throws: `CohortError.shapeMismatch` when `weight`, `bias` or `inputScale` do not fit `conv`.
    public init(like conv: Conv2d, weight: QuantizedMatrix, bias: [Float]?, inputScale: Float?) throws {
        let k = conv.inChannels * conv.kernelSize.first * conv.kernelSize.second
        guard conv.groups == 1, weight.rows == conv.outChannels, weight.k == k, bias == nil || bias!.count == conv.outChannels,
              inputScale.map({ $0 > 0 && $0.isFinite }) ?? true else {
            throw CohortError.shapeMismatch(op: "QuantizedConv2d", "weight [\(weight.rows), \(weight.k)], bias \(bias?.count ?? 0), input scale \(inputScale.map { "\($0)" } ?? "none") for a conv \(conv.inChannels)→\(conv.outChannels) \(conv.kernelSize) groups \(conv.groups)")
        }
        inChannels = conv.inChannels; outChannels = conv.outChannels
        kernelSize = conv.kernelSize; stride = conv.stride; padding = conv.padding; dilation = conv.dilation
        fuseReLU = conv.fuseReLU; fuseMaxPool = conv.fuseMaxPool
        self.weight = weight; self.bias = bias; self.inputScale = inputScale
    }

    /// - Throws: `CohortError.shapeMismatch` unless `x` is `[N, inChannels, H, W]` with an output of at least 1×1.
    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 4, x.shape[1] == inChannels else {
            throw CohortError.shapeMismatch(op: "QuantizedConv2d(\(inChannels), \(outChannels))", "input \(describeShape(x.shape)) must be [N, \(inChannels), H, W]")
        }
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let oh = (h + 2 * padding.first - dilation.first * (kernelSize.first - 1) - 1) / stride.first + 1
        let ow = (w + 2 * padding.second - dilation.second * (kernelSize.second - 1) - 1) / stride.second + 1
        guard oh >= 1, ow >= 1, n >= 1 else {
            throw CohortError.shapeMismatch(op: "QuantizedConv2d(\(inChannels), \(outChannels))", "input \(describeShape(x.shape)) gives an empty \(oh)×\(ow) output")
        }
        let (image, positions, k) = (inChannels * h * w, oh * ow, weight.k)
        var rows = [UInt8](repeating: 0, count: n * positions * k)
        var imageQ = [UInt8](repeating: 0, count: image)
        var scales = [Float](repeating: 1, count: n)
        x.withContiguousBuffer { xp in
            imageQ.withUnsafeMutableBufferPointer { q in
                rows.withUnsafeMutableBufferPointer { r in
                    for s in 0..<n {
                        scales.withUnsafeMutableBufferPointer { sp in
                            Int8GEMM.quantizeRows(xp + s * image, rows: 1, cols: image, into: q.baseAddress!, scales: sp.baseAddress! + s, fixedScale: inputScale)
                        }
                        Int8GEMM.im2row(q.baseAddress!, channels: inChannels, height: h, width: w,
                                        kernel: (kernelSize.first, kernelSize.second), stride: (stride.first, stride.second),
                                        padding: (padding.first, padding.second), dilation: (dilation.first, dilation.second),
                                        output: (oh, ow), into: r.baseAddress! + s * positions * k)
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: n * outChannels * positions)   // [N, O, oh·ow]
        try rows.withUnsafeBufferPointer { r in
            try scales.withUnsafeBufferPointer { sp in
                try out.withUnsafeMutableBufferPointer {
                    try weight.multiply(r, xScales: sp.baseAddress!, m: n * positions, rowsPerScale: positions, bias: bias,
                                        relu: fuseReLU, nchw: true, into: $0.baseAddress!)
                }
            }
        }
        let y = try Tensor(out, shape: [n, outChannels, oh, ow])
        return try fuseMaxPool.map { try y.maxPool2d(kernel: IntOrPair($0)) } ?? y
    }
}
