// The `.cq` file (docs/quantized-format.md): a safetensors file. A quantized layer at
// path P stores `P.weight` (I8, the layer's weight shape), `P.weight_scale` (F32 [O]),
// `P.bias` (F32 [O]) and, static convolutions, `P.input_scale` (F32 [1]); an embedding's
// table is `P.weight` (I8 [V, D]) with a scale per row (token); an LSTM or GRU stores
// PyTorch's weight_ih_l{k}/weight_hh_l{k} (I8) with their scales; every other parameter
// and buffer is stored under its own name — F32, or F16/BF16 with --dtype.
// `__metadata__` carries `format`, `quantization.*` and what `ckpt export` writes.
import CohortCore
import CohortData
import CohortNN
import CohortTensor

/// Writing and reading `.cq` files.
public enum QuantizedFile {
    /// The value of the `format` metadata key.
    public static let format = "cohort-quantized"

    /// The tensors of `module` (an output of `Quantizer.quantize`, or an fp32 model for bf16/fp16), in file order.
    public static func entries(of module: any Module, dtype: QuantizedDType) -> [SafetensorsEntry] {
        var out: [SafetensorsEntry] = []
        func matrix(_ p: String, _ w: QuantizedMatrix, shape: [Int]? = nil, name: String = "weight", bias: [Float]?, biasName: String = "bias") {
            out.append(SafetensorsEntry(name: p + "." + name, dtype: "I8", shape: shape ?? [w.rows, w.k], bytes: w.q.map { UInt8(bitPattern: $0) }))
            out.append(SafetensorsEntry(name: p + "." + name + "_scale", shape: [w.rows], floats: w.scales))
            if let bias { out.append(SafetensorsEntry(name: p + "." + biasName, shape: [bias.count], floats: bias)) }
        }
        for (path, layer) in quantizedLayers(module) {
            if let l = layer as? QuantizedLinear { matrix(path, l.weight, shape: [l.outFeatures, l.inFeatures], bias: l.bias) }
            if let e = layer as? QuantizedEmbedding { matrix(path, e.weight, bias: nil) }
            if let c = layer as? QuantizedConv2d {
                matrix(path, c.weight, shape: [c.outChannels, c.inChannels, c.kernelSize.first, c.kernelSize.second], bias: c.bias)
                if let s = c.inputScale { out.append(SafetensorsEntry(name: path + ".input_scale", shape: [1], floats: [s])) }
            }
            if let stack = (layer as? QuantizedLSTM)?.layers ?? (layer as? QuantizedGRU)?.layers {
                for (l, w) in stack.enumerated() {
                    matrix(path, w.ih, name: "weight_ih_l\(l)", bias: w.bih, biasName: "bias_ih_l\(l)")
                    matrix(path, w.hh, name: "weight_hh_l\(l)", bias: w.bhh, biasName: "bias_hh_l\(l)")
                }
            }
        }
        for (name, t) in module.namedParameters() {
            let values = t.contiguous().scalars
            out.append(dtype == .int8 ? SafetensorsEntry(name: name, shape: t.shape, floats: values)
                                      : SafetensorsEntry(name: name, dtype: dtype == .bf16 ? "BF16" : "F16", shape: t.shape, bytes: HalfFloat.bytes(values, dtype)))
        }
        for (name, t) in module.namedBuffers() { out.append(SafetensorsEntry(name: name, shape: t.shape, floats: t.contiguous().scalars)) }
        return out
    }

    /// The quantized layers of a module tree with their paths, depth-first.
    public static func quantizedLayers(_ module: any Module) -> [(path: String, layer: any Module)] {
        var out: [(path: String, layer: any Module)] = []
        func visit(_ m: any Module, _ path: String) {
            if m is QuantizedLinear || m is QuantizedConv2d || m is QuantizedLSTM || m is QuantizedGRU || m is QuantizedEmbedding { out.append((path, m)); return }
            for (n, c) in m.children { visit(c, path.isEmpty ? n : path + "." + n) }
        }
        visit(module, "")
        return out
    }

    /// Writes `module` to `path` with `metadata` (e.g. `CheckpointExport.metadata(of:)`) after the format keys; returns the file size.
    /// - Throws: `CohortError.badFile` naming `path` when it cannot be written.
    @discardableResult
    public static func write(_ module: any Module, dtype: QuantizedDType, mode: QuantizationMode,
                             metadata: [(key: String, value: String)], to path: String) throws -> Int {
        func kind(_ m: any Module) -> String {
            m is QuantizedLinear ? "linear" : m is QuantizedLSTM ? "lstm" : m is QuantizedGRU ? "gru" : m is QuantizedEmbedding ? "embedding" : "conv2d"
        }
        let layers = quantizedLayers(module).map { "\($0.path):\(kind($0.layer))" }
        var meta: [(key: String, value: String)] = [("format", format), ("format_version", "1"), ("quantization.dtype", dtype.rawValue),
                                                     ("quantization.mode", dtype == .int8 ? mode.rawValue : "none"),
                                                     ("quantization.layers", layers.joined(separator: ","))]
        let reserved = Set(meta.map(\.key))
        meta += metadata.filter { !reserved.contains($0.key) }
        return try SafetensorsWriter.write(entries(of: module, dtype: dtype), metadata: meta, to: path)
    }

    /// Fills `skeleton` (the fp32 model the file was made from, built with the same sizes) from `file`:
    /// the layers the file stores in int8 become quantized layers, every other parameter and buffer gets
    /// the file's values. Returns the runnable module (in eval mode).
    /// - Throws: `CohortError.badFile` naming the file and tensor when one is missing, of the wrong
    ///   shape or dtype, or left over (the file does not fit this model).
    public static func restore(_ skeleton: any Module, from file: SafetensorsFile) throws -> any Module {
        guard file.metadata["format"] == format else {
            throw CohortError.badFile(path: file.path, "not a quantized model: metadata format is '\(file.metadata["format"] ?? "")', expected '\(format)'")
        }
        let byName = Dictionary(file.entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var used = Set<String>()
        func read(_ name: String, _ shape: [Int], dtypes: Set<String>) throws -> [Float] {
            guard let e = byName[name] else { throw CohortError.badFile(path: file.path, "has no tensor '\(name)' (\(describeShape(shape))) that the model needs") }
            guard e.shape == shape, dtypes.contains(e.dtype) else {
                throw CohortError.badFile(path: file.path, "tensor '\(name)' is \(e.dtype) \(describeShape(e.shape)); the model needs \(dtypes.sorted().joined(separator: "/")) \(describeShape(shape))")
            }
            used.insert(name)
            return try file.tensor(name).values
        }
        func isInt8(_ path: String, _ name: String = "weight") -> Bool { byName[path + "." + name]?.dtype == "I8" }
        func matrix(_ path: String, rows: Int, k: Int, shape: [Int]? = nil, name: String = "weight", hasBias: Bool, biasName: String = "bias") throws -> (QuantizedMatrix, [Float]?) {
            let q = try read(path + "." + name, shape ?? [rows, k], dtypes: ["I8"]).map { Int8($0) }
            let scales = try read(path + "." + name + "_scale", [rows], dtypes: ["F32"])
            guard scales.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw CohortError.badFile(path: file.path, "tensor '\(path).\(name)_scale' has a scale that is not a positive number") }
            return (QuantizedMatrix(q: q, scales: scales, rows: rows, k: k), hasBias ? try read(path + "." + biasName, [rows], dtypes: ["F32"]) : nil)
        }
        let module = try Quantizer.transform(skeleton) { m, path in
            if let l = m as? Linear, isInt8(path) {
                let (w, b) = try matrix(path, rows: l.outFeatures, k: l.inFeatures, shape: [l.outFeatures, l.inFeatures], hasBias: l.bias != nil)
                return QuantizedLinear(weight: w, bias: b)
            }
            if let e = m as? Embedding, isInt8(path) {
                return QuantizedEmbedding(weight: try matrix(path, rows: e.vocabularySize, k: e.dimension, hasBias: false).0)
            }
            // The recurrent stacks: per layer l, weight_ih_l{l} [gates·H, F or H] and weight_hh_l{l} [gates·H, H].
            func stack(_ r: RecurrentBase, gates: Int) throws -> [(ih: QuantizedMatrix, hh: QuantizedMatrix, bih: [Float]?, bhh: [Float]?)] {
                let names = Set(r.localParameters.map(\.name))
                return try (0..<r.layers).map { l in
                    let (ih, bih) = try matrix(path, rows: gates * r.hiddenSize, k: l == 0 ? r.inputSize : r.hiddenSize, name: "weight_ih_l\(l)",
                                               hasBias: names.contains("bias_ih_l\(l)"), biasName: "bias_ih_l\(l)")
                    let (hh, bhh) = try matrix(path, rows: gates * r.hiddenSize, k: r.hiddenSize, name: "weight_hh_l\(l)",
                                               hasBias: names.contains("bias_hh_l\(l)"), biasName: "bias_hh_l\(l)")
                    return (ih, hh, bih, bhh)
                }
            }
            if let r = m as? LSTM, isInt8(path, "weight_ih_l0") {
                return QuantizedLSTM(inputSize: r.inputSize, hiddenSize: r.hiddenSize, layers: try stack(r, gates: 4))
            }
            if let r = m as? GRU, isInt8(path, "weight_ih_l0") {
                return QuantizedGRU(inputSize: r.inputSize, hiddenSize: r.hiddenSize, layers: try stack(r, gates: 3))
            }
            if let c = m as? Conv2d, isInt8(path) {
                let (kh, kw) = (c.kernelSize.first, c.kernelSize.second)
                let (w, b) = try matrix(path, rows: c.outChannels, k: c.inChannels * kh * kw, shape: [c.outChannels, c.inChannels, kh, kw], hasBias: c.bias != nil)
                let scale = byName[path + ".input_scale"] == nil ? nil : try read(path + ".input_scale", [1], dtypes: ["F32"])[0]
                return try QuantizedConv2d(like: c, weight: w, bias: b, inputScale: scale)
            }
            return nil
        }
        for (name, t) in module.namedParameters() + module.namedBuffers() {
            let values = try read(name, t.shape, dtypes: ["F32", "F16", "BF16"])
            try t.withMutableBuffer { p in for i in 0..<values.count { p[i] = values[i] } }
        }
        if let extra = file.entries.first(where: { !used.contains($0.name) }) {
            throw CohortError.badFile(path: file.path, "tensor '\(extra.name)' belongs to no layer of the model")
        }
        module.eval()
        return module
    }
}
