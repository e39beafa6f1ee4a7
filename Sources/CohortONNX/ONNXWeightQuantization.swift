// Weight-only int8 in ONNX's QDQ form (`--int8-weights`): a weight matrix is stored as
import CohortTensor
// int8 with one symmetric scale per output channel (row), and a DequantizeLinear node
// (per-axis, opset 13+) restores float32 before the Gemm/MatMul/Conv/LSTM that uses it.
// Activations stay float32. About a quarter of the float file size.

/// Symmetric per-output-channel int8 quantization of a weight: `q = round(w / s)` clamped
/// to ±127 with `s = max|w| / 127` per channel (1 for an all-zero channel).
public enum ONNXWeightQuantization {
    /// `values` seen as `channels` equal rows (the output channel is the slowest axis):
    /// the int8 codes, the per-channel scales, and the values they stand for (`q · s`).
    public static func quantize(_ values: [Float], channels: Int) -> (codes: [Int8], scales: [Float], dequantized: [Float]) {
        precondition(channels > 0 && values.count % channels == 0, "\(values.count) values do not split into \(channels) channels")
        let row = values.count / channels
        var codes = [Int8](repeating: 0, count: values.count), deq = [Float](repeating: 0, count: values.count)
        var scales = [Float](repeating: 1, count: channels)
        for c in 0..<channels {
            let r = (c * row)..<((c + 1) * row)
            let m = values[r].reduce(Float(0)) { max($0, abs($1)) }
            let s = m > 0 ? m / 127 : 1
            scales[c] = s
            for i in r {
                let q = max(-127, min(127, (values[i] / s).rounded(.toNearestOrEven)))
                codes[i] = Int8(q)
                deq[i] = q * s
            }
        }
        return (codes, scales, deq)
    }
}

extension ONNXGraphBuilder {
    /// A weight whose output channels lie along `axis` (0 for `[out, in]` and `[O, C, kh, kw]`,
    /// 1 for ONNX's recurrent `[1, G·H, in]`): a plain initializer, or with `quantizeWeights`
    /// an int8 initializer, its scales and zero points, and a DequantizeLinear node.
    mutating func weight(floats values: [Float], shape: [Int], name: String, axis: Int = 0) -> ONNXValue {
        guard quantizeWeights else { return constant(floats: values, shape: shape, name: name) }
        let channels = shape[axis]
        let (codes, scales, _) = ONNXWeightQuantization.quantize(values, channels: channels)
        let q = uniqueName(name + "_int8")
        model.initializers.append(ONNXInitializer(name: q, type: .int8, dims: shape, rawData: codes.map { UInt8(bitPattern: $0) }))
        let s = constant(floats: scales, shape: [channels], name: name + "_scale")
        let zpName = uniqueName(name + "_zero_point")
        model.initializers.append(ONNXInitializer(name: zpName, type: .int8, dims: [channels], rawData: [UInt8](repeating: 0, count: channels)))
        let qv = ONNXValue(name: q, type: .int8, shape: shape.map { .fixed($0) })
        let zp = ONNXValue(name: zpName, type: .int8, shape: [.fixed(channels)])
        return node("DequantizeLinear", [qv, s, zp], name: name, type: .float, shape: shape.map { .fixed($0) }, attributes: [("axis", .int(axis))])
    }

    /// A layer's weight tensor (see `weight(floats:…)`); a tensor reached twice is stored once.
    mutating func weight(_ t: Tensor, name: String) -> ONNXValue {
        guard quantizeWeights else { return initializer(t, name: name) }
        if let v = quantizedWeights[ObjectIdentifier(t)] { return v }
        let v = weight(floats: t.scalars, shape: t.shape, name: name)
        quantizedWeights[ObjectIdentifier(t)] = v
        return v
    }
}
