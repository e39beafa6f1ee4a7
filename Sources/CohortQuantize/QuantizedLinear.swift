// `Linear` with int8 weights: inputs quantized per row (each sample its own scale,
// so a result never depends on what else is in the batch — dynamic batching in a
// server gives the same answers), int8 GEMM, fp32 bias, and a following ReLU fused
// into the epilogue. The uint8 inputs and their scales live in buffers the layer keeps
// between calls (a module runs on one thread at a time).
import CohortCore
import CohortNN
import CohortTensor

/// `y = x Wᵀ + b` for `x: [.., inFeatures]` with `W` int8 per output channel, activations int8 per row.
public final class QuantizedLinear: Module {
    public var isTraining = false
    public let inFeatures: Int, outFeatures: Int
    /// `[outFeatures, inFeatures]`.
    public let weight: QuantizedMatrix
    /// `[outFeatures]`, fp32.
    public let bias: [Float]?
    /// Whether `max(·, 0)` is applied to the output (a `ReLU` after this layer, fused by `Quantizer`).
    public let relu: Bool
    /// The last call's quantized inputs and their per-row scales, reused while large enough.
    private var xq: [UInt8] = [], xScales: [Float] = []

    /// Quantizes `linear`'s weight.
    public convenience init(_ linear: Linear) {
        self.init(weight: QuantizedMatrix(weights: linear.weight.contiguous().scalars, rows: linear.outFeatures, k: linear.inFeatures),
                  bias: linear.bias?.contiguous().scalars)
    }

    /// From stored values; `relu` applies `max(·, 0)` to the output.
    public init(weight: QuantizedMatrix, bias: [Float]?, relu: Bool = false) {
        precondition(bias == nil || bias!.count == weight.rows, "QuantizedLinear: bias of \(bias!.count) for \(weight.rows) outputs")
        self.weight = weight; self.bias = bias; self.relu = relu
        inFeatures = weight.k; outFeatures = weight.rows
    }

    /// - Throws: `CohortError.shapeMismatch` if the last dimension is not `inFeatures`.
    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures else {
            throw CohortError.shapeMismatch(op: "QuantizedLinear(\(inFeatures), \(outFeatures))",
                                            "input \(describeShape(x.shape)) must have last dimension \(inFeatures)")
        }
        let m = x.count / max(inFeatures, 1)
        guard m > 0, inFeatures > 0 else {   // nothing to multiply: the bias alone (or zeros)
            return try Tensor((0..<m * outFeatures).map { relu ? max(bias?[$0 % outFeatures] ?? 0, 0) : bias?[$0 % outFeatures] ?? 0 }, shape: Array(x.shape.dropLast()) + [outFeatures])
        }
        if xq.count < m * inFeatures { xq = [UInt8](repeating: 0, count: m * inFeatures) }
        if xScales.count < m { xScales = [Float](repeating: 1, count: m) }
        let y = Storage(count: m * outFeatures)
        try x.withContiguousBuffer { xp in
            try xq.withUnsafeMutableBufferPointer { qp in
                try xScales.withUnsafeMutableBufferPointer { sp in
                    Int8GEMM.quantizeRows(xp, rows: m, cols: inFeatures, into: qp.baseAddress!, scales: sp.baseAddress!, fixedScale: nil)
                    try weight.multiply(UnsafeBufferPointer(rebasing: qp[0..<m * inFeatures]), xScales: sp.baseAddress!, m: m, bias: bias,
                                        relu: relu, into: y.pointer)
                }
            }
        }
        return Tensor(storage: y, shape: Array(x.shape.dropLast()) + [outFeatures])
    }
}

/// What stays of a `ReLU` that `Quantizer` fused into the `QuantizedLinear` before it: the identity
/// (kept, not removed, so the layers of a `Sequential` keep their indices and names).
public final class FusedReLU: Module {
    public var isTraining = false
    public init() {}
    /// `x` itself: the layer before already clamped it.
    public func forward(_ x: Tensor) throws -> Tensor { x }
}

extension QuantizedLinear {
    /// `layers` with each `QuantizedLinear` followed by a `ReLU` replaced by one that applies the ReLU
    /// in its epilogue, and the `ReLU` by a `FusedReLU`.
    static func fusingReLUs(_ layers: [any Module]) -> [any Module] {
        var out = layers
        for i in out.indices.dropLast() {
            guard let l = out[i] as? QuantizedLinear, !l.relu, out[i + 1] is ReLU else { continue }
            out[i] = QuantizedLinear(weight: l.weight, bias: l.bias, relu: true)
            out[i + 1] = FusedReLU()
        }
        return out
    }
}
