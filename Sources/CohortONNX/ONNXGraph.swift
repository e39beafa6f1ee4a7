// The ONNX model as plain Swift values: what the exporter builds and the
// serializer (ONNXSerializer.swift, the one file that sees the protobuf-c types)
// turns into ModelProto bytes. Names and meanings follow onnx.proto.
import Foundation

/// An ONNX tensor element type (`TensorProto.DataType`, the values ONNX assigns).
public enum ONNXDataType: Int32, Sendable {
    case float = 1, int8 = 3, int64 = 7, bool = 9
}

/// One dimension of a value's shape: a fixed size, or a named dynamic one (`dim_param`,
/// e.g. `batch`, `sequence`).
public enum ONNXDim: Sendable, Equatable, CustomStringConvertible {
    case fixed(Int)
    case named(String)

    public var description: String {
        switch self {
        case .fixed(let n): return "\(n)"
        case .named(let s): return s
        }
    }

    /// The size when fixed.
    public var size: Int? { if case .fixed(let n) = self { return n } else { return nil } }
}

/// A named value in the graph with its element type and shape (as far as the exporter knows it).
public struct ONNXValue: Sendable {
    public var name: String
    public var type: ONNXDataType
    public var shape: [ONNXDim]
    public var rank: Int { shape.count }

    public init(name: String, type: ONNXDataType, shape: [ONNXDim]) {
        self.name = name; self.type = type; self.shape = shape
    }
}

/// A constant tensor stored in the graph (`GraphProto.initializer`): float32 or int64 data, little-endian.
public struct ONNXInitializer: Sendable {
    public var name: String
    public var type: ONNXDataType
    public var dims: [Int]
    /// Raw little-endian element bytes (`TensorProto.raw_data`).
    public var rawData: [UInt8]
}

/// A node attribute value.
public enum ONNXAttributeValue: Sendable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case strings([String])
}

/// One operator application (`NodeProto`).
public struct ONNXNode: Sendable {
    public var opType: String
    public var name: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [(name: String, value: ONNXAttributeValue)]
}

/// A whole model: graph, opset and `metadata_props`.
public struct ONNXModel: Sendable {
    /// Opset of the default domain (17: LayerNormalization is there).
    public var opset: Int = 17
    /// IR version matching opset 17.
    public var irVersion: Int = 8
    public var producerName = "cohort"
    public var producerVersion = ""
    public var graphName = "cohort"
    public var nodes: [ONNXNode] = []
    public var initializers: [ONNXInitializer] = []
    public var inputs: [ONNXValue] = []
    public var outputs: [ONNXValue] = []
    /// `metadata_props`, in order.
    public var metadata: [(key: String, value: String)] = []

    public init() {}

    /// Counts of each operator type, sorted by name (for summaries and tests).
    public var operatorCounts: [(op: String, count: Int)] {
        var counts: [String: Int] = [:]
        for n in nodes { counts[n.opType, default: 0] += 1 }
        return counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Total scalars in the initializers.
    public var initializerElements: Int { initializers.reduce(0) { $0 + $1.dims.reduce(1, *) } }
}
