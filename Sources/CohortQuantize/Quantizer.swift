// Post-training quantization of a trained module tree: every `Linear`, `Conv2d`, `LSTM`,
// `GRU` and `Embedding` reachable through `Sequential`s (and a `CharLSTM`) becomes its quantized form
// (other modules stay fp32: their names and values go to the file as they are).
// Static mode first runs calibration batches through the fp32 model, watching each
// convolution's input, and fixes its activation scale at max|x| / 127.
import CohortCore
import CohortKernels
import CohortNN
import CohortTensor

/// How activations are quantized.
public enum QuantizationMode: String, Sendable, CaseIterable {
    /// Each sample's own scale, computed as it arrives.
    case dynamic
    /// Convolutions: one scale per layer from calibration batches (linear layers stay dynamic).
    case `static`
}

/// How weights are stored.
public enum QuantizedDType: String, Sendable, CaseIterable {
    /// int8 per output channel for Linear and Conv2d (others fp32).
    case int8
    /// Every floating-point parameter as bfloat16, computed in fp32.
    case bf16
    /// Every floating-point parameter as IEEE half, computed in fp32.
    case fp16
}

/// Turns trained models into quantized ones.
public enum Quantizer {
    /// Replaces each module that `replace` maps (given the module and its dotted path) and
    /// rebuilds the `Sequential`s holding it, a `ReLU` after a `QuantizedLinear` fused into it
    /// (`FusedReLU`); modules of other kinds are kept (not entered).
    public static func transform(_ m: any Module, path: String = "", _ replace: (any Module, String) throws -> (any Module)?) rethrows -> any Module {
        if let r = try replace(m, path) { return r }
        func child(_ name: String) -> String { path.isEmpty ? name : path + "." + name }
        if let c = m as? CharLSTM {
            let embedding = try transform(c.embedding, path: child("embedding"), replace)
            let lstm = try transform(c.lstm, path: child("lstm"), replace)
            let head = try c.head.map { try transform($0, path: child("head"), replace) }
            if embedding === c.embedding && lstm === c.lstm && head.map({ $0 === c.head! }) ?? true { return m }
            return QuantizedCharLSTM(embedding: embedding, lstm: lstm, head: head, tiedBias: c.tiedBias)
        }
        guard let s = m as? Sequential else { return m }
        let layers = try s.layers.enumerated().map { try transform($0.element, path: path.isEmpty ? "\($0.offset)" : "\(path).\($0.offset)", replace) }
        let out = Sequential(QuantizedLinear.fusingReLUs(layers))
        out.isTraining = s.isTraining
        return out
    }

    /// The int8 version of `model`: Linear, Conv2d, LSTM, GRU and Embedding layers quantized; in `.static` mode each
    /// convolution's activation scale comes from running `calibration` (input batches) through `model`.
    /// - Throws: `CohortError.invalidArgument` for static mode without calibration batches, or a
    ///   calibration batch that leaves a convolution's input all zero; errors of the model's forward.
    public static func quantize(_ model: any Module, mode: QuantizationMode = .dynamic, calibration: [Tensor] = []) throws -> any Module {
        var scales: [String: Float] = [:]
        if mode == .static {
            guard !calibration.isEmpty else {
                throw CohortError.invalidArgument("static quantization needs calibration batches (--calibration-data, --calibration-batches)")
            }
            scales = try calibrate(model, calibration)
        }
        return try transform(model) { m, path in
            if let l = m as? Linear { return QuantizedLinear(l) }
            if let l = m as? LSTM { return QuantizedLSTM(l) }
            if let l = m as? GRU { return QuantizedGRU(l) }
            if let e = m as? Embedding { return QuantizedEmbedding(e) }
            if let c = m as? Conv2d, c.groups == 1 { return try QuantizedConv2d(c, inputScale: scales[path]) }
            return nil
        }
    }

    /// Each convolution's input scale (`max|x| / 127` over the batches), by path.
    static func calibrate(_ model: any Module, _ batches: [Tensor]) throws -> [String: Float] {
        var observers: [(String, Observer)] = []
        let watched = transform(model) { m, path in
            guard let c = m as? Conv2d, c.groups == 1 else { return nil }
            let o = Observer(c)
            observers.append((path, o))
            return o
        }
        let wasTraining = model.isTraining
        watched.eval()
        defer { model.train(wasTraining) }
        try withNoGrad { for b in batches { _ = try watched(b) } }
        var scales: [String: Float] = [:]
        for (path, o) in observers {
            guard o.maxAbs > 0, o.maxAbs.isFinite else {
                throw CohortError.invalidArgument("calibration: the input of convolution \(path) was \(o.maxAbs) at most over \(batches.count) batches; cannot fix a scale")
            }
            scales[path] = o.maxAbs / 127
        }
        return scales
    }

    /// Rounds every parameter of `model` in place to `dtype`'s precision (bf16, fp16), as the file stores it.
    public static func roundParameters(_ model: any Module, to dtype: QuantizedDType) throws {
        guard dtype != .int8 else { return }
        for (_, t) in model.namedParameters() {
            try t.withMutableBuffer { p in for i in 0..<t.count { p[i] = HalfFloat.round(p[i], dtype) } }
        }
    }
}

/// Passes inputs to a convolution and keeps their largest magnitude.
final class Observer: Module {
    var isTraining = false
    let conv: Conv2d
    var maxAbs: Float = 0
    init(_ conv: Conv2d) { self.conv = conv }
    func forward(_ x: Tensor) throws -> Tensor {
        x.withContiguousBuffer { p in for i in 0..<x.count { maxAbs = max(maxAbs, abs(p[i])) } }
        return try conv(x)
    }
}

/// bfloat16 and IEEE half conversions for stored weights (CohortKernels' `HalfPrecision`).
enum HalfFloat {
    private static func format(_ dtype: QuantizedDType) -> HalfFormat { dtype == .bf16 ? .bf16 : .fp16 }

    /// `x` rounded to `dtype`'s precision.
    static func round(_ x: Float, _ dtype: QuantizedDType) -> Float {
        dtype == .int8 ? x : HalfPrecision.round(x, format(dtype))
    }

    /// Little-endian bytes of `values` as `dtype` (bf16 or fp16).
    static func bytes(_ values: [Float], _ dtype: QuantizedDType) -> [UInt8] {
        var out = [UInt8](); out.reserveCapacity(values.count * 2)
        for v in values {
            let bits = HalfPrecision.word(v, format(dtype))
            out.append(UInt8(bits & 0xFF)); out.append(UInt8(bits >> 8))
        }
        return out
    }
}
