// Builds an `ONNXModel` node by node: unique value names, initializers from
// Cohort tensors (a tensor shared by two layers is stored once), small constants,
// and helpers for the operators several layer mappings need.
import CohortNN
import CohortTensor

/// The graph under construction. Layer mappings (`ONNXLayerMapping`) call it to add
/// initializers and nodes; each helper returns the new value with its shape.
public struct ONNXGraphBuilder {
    /// The model built so far.
    public internal(set) var model = ONNXModel()
    private var used: Set<String> = []
    private var tensorNames: [ObjectIdentifier: String] = [:]
    private var counter = 0
    /// Store Linear, Conv2d and recurrent weight matrices as int8 + DequantizeLinear (`ONNXWeightQuantization`).
    public internal(set) var quantizeWeights = false
    var quantizedWeights: [ObjectIdentifier: ONNXValue] = [:]

    init() {}

    /// A name not used before, derived from `base` (`base`, `base_1`, …).
    public mutating func uniqueName(_ base: String) -> String {
        var name = base.isEmpty ? "v" : base
        while used.contains(name) {
            counter += 1
            name = "\(base)_\(counter)"
        }
        used.insert(name)
        return name
    }

    /// Stores a Cohort tensor (float32) as an initializer named `name` (its dotted parameter
    /// path); the same tensor object reached again returns the first initializer.
    public mutating func initializer(_ t: Tensor, name: String) -> ONNXValue {
        if let existing = tensorNames[ObjectIdentifier(t)] {
            return ONNXValue(name: existing, type: .float, shape: t.shape.map { .fixed($0) })
        }
        let v = constant(floats: t.scalars, shape: t.shape, name: name)
        tensorNames[ObjectIdentifier(t)] = v.name
        return v
    }

    /// A float32 initializer with `values` of `shape`.
    public mutating func constant(floats values: [Float], shape: [Int], name: String) -> ONNXValue {
        precondition(values.count == shape.reduce(1, *), "constant \(name): \(values.count) values for shape \(shape)")
        let n = uniqueName(name)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 } }
        model.initializers.append(ONNXInitializer(name: n, type: .float, dims: shape, rawData: bytes))
        return ONNXValue(name: n, type: .float, shape: shape.map { .fixed($0) })
    }

    /// An int64 initializer (shapes, axes, indices).
    public mutating func constant(ints values: [Int], shape: [Int]? = nil, name: String) -> ONNXValue {
        let dims = shape ?? [values.count]
        let n = uniqueName(name)
        var bytes: [UInt8] = []
        for v in values { withUnsafeBytes(of: Int64(v).littleEndian) { bytes += $0 } }
        model.initializers.append(ONNXInitializer(name: n, type: .int64, dims: dims, rawData: bytes))
        return ONNXValue(name: n, type: .int64, shape: dims.map { .fixed($0) })
    }

    /// A float32 scalar constant (rank 0).
    public mutating func scalar(_ v: Float, name: String) -> ONNXValue { constant(floats: [v], shape: [], name: name) }

    /// Adds a node with one output of `type` and `shape`; returns that output.
    @discardableResult
    public mutating func node(_ op: String, _ inputs: [ONNXValue], name: String, type: ONNXDataType? = nil, shape: [ONNXDim],
                              attributes: [(name: String, value: ONNXAttributeValue)] = []) -> ONNXValue {
        let out = uniqueName(name)
        model.nodes.append(ONNXNode(opType: op, name: out, inputs: inputs.map(\.name), outputs: [out], attributes: attributes))
        return ONNXValue(name: out, type: type ?? inputs.first?.type ?? .float, shape: shape)
    }

    /// Adds a node whose inputs may be omitted (empty names) and with several outputs.
    public mutating func node(_ op: String, inputNames: [String], outputs: [(name: String, type: ONNXDataType, shape: [ONNXDim])],
                              name: String, attributes: [(name: String, value: ONNXAttributeValue)] = []) -> [ONNXValue] {
        let outs = outputs.map { ONNXValue(name: uniqueName($0.name), type: $0.type, shape: $0.shape) }
        model.nodes.append(ONNXNode(opType: op, name: uniqueName(name + "_node"), inputs: inputNames, outputs: outs.map(\.name),
                                    attributes: attributes))
        return outs
    }

    /// `x` with the same shape through a one-input operator (Relu, Tanh, …).
    public mutating func unary(_ op: String, _ x: ONNXValue, name: String,
                               attributes: [(name: String, value: ONNXAttributeValue)] = []) -> ONNXValue {
        node(op, [x], name: name, shape: x.shape, attributes: attributes)
    }

    /// Elementwise `op(a, b)` with `a`'s shape (b broadcasts to it).
    public mutating func binary(_ op: String, _ a: ONNXValue, _ b: ONNXValue, name: String) -> ONNXValue {
        node(op, [a, b], name: name, shape: a.rank >= b.rank ? a.shape : b.shape)
    }

    /// `Transpose(x, perm)`.
    public mutating func transpose(_ x: ONNXValue, _ perm: [Int], name: String) -> ONNXValue {
        node("Transpose", [x], name: name, shape: perm.map { x.shape[$0] }, attributes: [("perm", .ints(perm))])
    }

    /// `Reshape(x, target)`: `target` uses ONNX's 0 (copy the input's dimension) and -1 (infer);
    /// `shape` is the result's shape as the exporter knows it.
    public mutating func reshape(_ x: ONNXValue, to target: [Int], shape: [ONNXDim], name: String) -> ONNXValue {
        let t = constant(ints: target, name: name + "_shape")
        return node("Reshape", [x, t], name: name, shape: shape)
    }

    /// `x · Wᵀ (+ b)` for `W: [out, in]`: Gemm for a 2-D `x`, MatMul (+ Add) otherwise.
    public mutating func linear(_ x: ONNXValue, weight: Tensor, bias: Tensor?, path: String) -> ONNXValue {
        let outF = weight.shape[0]
        let w = self.weight(weight, name: path + "weight")
        let b = bias.map { initializer($0, name: path + "bias") }
        let shape = Array(x.shape.dropLast()) + [.fixed(outF)]
        if x.rank == 2 {
            return node("Gemm", [x, w] + (b.map { [$0] } ?? []), name: path + "gemm", shape: shape, attributes: [("transB", .int(1))])
        }
        let wt = transpose(w, [1, 0], name: path + "weight_t")
        let y = node("MatMul", [x, wt], name: path + "matmul", shape: shape)
        return b.map { binary("Add", y, $0, name: path + "add") } ?? y
    }

    /// Declares a graph input.
    mutating func addInput(_ v: ONNXValue) {
        used.insert(v.name)
        model.inputs.append(v)
    }

    /// Declares `v` a graph output named `name` (an Identity node renames it).
    mutating func addOutput(_ v: ONNXValue, name: String) {
        var out = v
        if v.name != name {
            used.insert(name)
            model.nodes.append(ONNXNode(opType: "Identity", name: name + "_identity", inputs: [v.name], outputs: [name], attributes: []))
            out.name = name
        }
        model.outputs.append(out)
    }

    /// Adds `metadata_props` entries.
    mutating func addMetadata(_ kv: [(key: String, value: String)]) { model.metadata += kv }
}
