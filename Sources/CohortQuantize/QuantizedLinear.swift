// `Linear` with int8 weights: inputs quantized per row (each sample its own scale,
// so a result never depends on what else is in the batch — dynamic batching in a
// server gives the same answers), int8 GEMM, fp32 bias.
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

    /// Quantizes `linear`'s weight.
    public convenience init(_ linear: Linear) {
        self.init(weight: QuantizedMatrix(weights: linear.weight.contiguous().scalars, rows: linear.outFeatures, k: linear.inFeatures),
                  bias: linear.bias?.contiguous().scalars)
    }

    /// From stored values.
    public init(weight: QuantizedMatrix, bias: [Float]?) {
        precondition(bias == nil || bias!.count == weight.rows, "QuantizedLinear: bias of \(bias!.count) for \(weight.rows) outputs")
        self.weight = weight; self.bias = bias
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
            return try Tensor((0..<m * outFeatures).map { bias?[$0 % outFeatures] ?? 0 }, shape: Array(x.shape.dropLast()) + [outFeatures])
        }
        var y = [Float](repeating: 0, count: m * outFeatures)
        var xq = [UInt8](repeating: 0, count: m * inFeatures), scales = [Float](repeating: 1, count: m)
        try x.withContiguousBuffer { xp in
            try xq.withUnsafeMutableBufferPointer { qp in
                try scales.withUnsafeMutableBufferPointer { sp in
                    Int8GEMM.quantizeRows(xp, rows: m, cols: inFeatures, into: qp.baseAddress!, scales: sp.baseAddress!, fixedScale: nil)
                    try y.withUnsafeMutableBufferPointer {
                        try weight.multiply(UnsafeBufferPointer(qp), xScales: sp.baseAddress!, m: m, bias: bias, into: $0.baseAddress!)
                    }
                }
            }
        }
        return try Tensor(y, shape: Array(x.shape.dropLast()) + [outFeatures])
    }
}
