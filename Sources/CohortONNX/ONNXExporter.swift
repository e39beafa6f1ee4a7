// Walks a Cohort module tree and emits the equivalent ONNX graph (opset 17) in
// evaluation form: one mapping per layer type (ONNXExporter+Layers.swift,
// ONNXExporter+Sequence.swift), looked up in a table; a layer with none is an
// error naming its type and path. Custom layers add their own by conforming to
// `ONNXExportable`.
import CohortNN
import CohortTensor

/// A layer that knows its own ONNX form (for layers defined outside CohortNN).
public protocol ONNXExportable: Module {
    /// Emits nodes computing `forward(input)` in evaluation mode and returns the output.
    /// `path` is the layer's dotted path with a trailing dot (`""` at the root), for naming
    /// initializers; `exporter.emit(child, …)` exports a child module.
    func exportONNX(_ exporter: inout ONNXExporter.Context, input: ONNXValue, path: String) throws -> ONNXValue
}

/// What the graph's input is: its name, element type and per-sample shape.
public struct ONNXInputSpec: Sendable {
    /// The graph input's name.
    public var name: String
    /// `.float` for features and images, `.int64` for token ids.
    public var type: ONNXDataType
    /// The full input shape including the batch dimension (first), e.g. `[.named("batch"), .fixed(784)]`.
    public var shape: [ONNXDim]

    public init(name: String = "input", type: ONNXDataType, shape: [ONNXDim]) {
        self.name = name; self.type = type; self.shape = shape
    }
}

/// Exports modules to ONNX.
public enum ONNXExporter {
    /// One entry of the mapping table: a layer type and how to emit it.
    public struct Mapping {
        /// The layer's type name, for messages and the list of supported layers.
        public var name: String
        /// Whether `module` is of this entry's type.
        public var matches: (any Module) -> Bool
        /// Emits the layer; returns its output.
        public var emit: (any Module, inout Context, ONNXValue, String) throws -> ONNXValue

        public init<M: Module>(_ type: M.Type, emit: @escaping (M, inout Context, ONNXValue, String) throws -> ONNXValue) {
            name = String(describing: type)
            matches = { $0 is M }
            self.emit = { m, c, x, p in try emit(m as! M, &c, x, p) }
        }
    }

    /// The state of one export: the graph builder and the mapping table.
    public struct Context {
        /// The graph being built.
        public var graph = ONNXGraphBuilder()
        let table: [Mapping]

        /// Emits `module` (at dotted `path`, with trailing dot or empty) on `input`.
        /// - Throws: `ONNXExportError.unsupportedLayer` naming the module's type and path.
        public mutating func emit(_ module: any Module, input: ONNXValue, path: String) throws -> ONNXValue {
            if let custom = module as? any ONNXExportable {
                return try custom.exportONNX(&self, input: input, path: path)
            }
            guard let m = table.first(where: { $0.matches(module) }) else {
                throw ONNXExportError.unsupportedLayer(type: String(describing: type(of: module)), path: ONNXExporter.display(path))
            }
            return try m.emit(module, &self, input, path)
        }
    }

    /// The built-in mapping table, most specific types first.
    public static var table: [Mapping] { basicMappings + resamplingMappings + sequenceMappings }

    /// Names of the layer types the built-in table maps.
    public static var supportedLayerNames: [String] { table.map(\.name) }

    /// A path for messages: without the trailing dot.
    static func display(_ path: String) -> String { path.hasSuffix(".") ? String(path.dropLast()) : path }

    /// Exports `model` (put in evaluation mode first) as an ONNX model reading `input`
    /// and writing one output named `output`.
    /// - Parameters:
    ///   - normalization: the `inference.normalization` JSON record (`pixels` or `standardize`)
    ///     to apply inside the graph before the model, or nil.
    ///   - metadata: `metadata_props` to record.
    ///   - int8Weights: store Linear, Conv2d and recurrent weight matrices as int8 with per-output-channel
    ///     symmetric scales and a DequantizeLinear before each use (QDQ, weight-only; `ONNXWeightQuantization`).
    /// - Throws: `ONNXExportError` naming the layer or option at fault.
    public static func export(_ model: any Module, input: ONNXInputSpec, normalization: String? = nil,
                              metadata: [(key: String, value: String)] = [], int8Weights: Bool = false) throws -> ONNXModel {
        guard input.shape.count >= 1 else { throw ONNXExportError.invalidOption("the input shape needs a batch dimension") }
        model.eval()
        var ctx = Context(table: table)
        ctx.graph.quantizeWeights = int8Weights
        let x = ONNXValue(name: input.name, type: input.type, shape: input.shape)
        ctx.graph.addInput(x)
        var h = x
        if let normalization { h = try ONNXNormalization.emit(normalization, on: x, graph: &ctx.graph) }
        let y = try ctx.emit(model, input: h, path: "")
        ctx.graph.addOutput(y, name: "output")
        ctx.graph.addMetadata(metadata)
        return ctx.graph.model
    }
}
