// Swift mirror of the checkpoint manifest (proto/checkpoint.proto). Only
// ManifestCodec.swift converts between these values and the protobuf-c structs.

/// Element type of a stored tensor.
public enum DType: Int, Sendable, Equatable {
    case float32 = 1, float64 = 2, int32 = 3, int64 = 4, uint8 = 5
    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        case .uint8: return 1
        }
    }
}

/// A byte range of a data file with its CRC32C.
public struct Chunk: Sendable, Equatable {
    public var file: String
    public var offset: UInt64
    public var length: UInt64
    public var crc32c: UInt32
    public init(file: String, offset: UInt64, length: UInt64, crc32c: UInt32) {
        self.file = file; self.offset = offset; self.length = length; self.crc32c = crc32c
    }
}

/// A named tensor and where its bytes are.
public struct TensorRecord: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var dtype: DType
    public var byteLength: UInt64
    public var chunks: [Chunk]
    public init(name: String, shape: [Int], dtype: DType, byteLength: UInt64, chunks: [Chunk]) {
        self.name = name; self.shape = shape; self.dtype = dtype; self.byteLength = byteLength; self.chunks = chunks
    }
    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
}

/// An ordered key/value pair (order is kept on the wire).
public struct KeyValue: Sendable, Equatable {
    public var key: String, value: String
    public init(_ key: String, _ value: String) { self.key = key; self.value = value }
}

/// A named generator state (four xoshiro words).
public struct RNGRecord: Sendable, Equatable {
    public var name: String
    public var words: [UInt64]
    public init(name: String, words: [UInt64]) { self.name = name; self.words = words }
}

/// A named scalar.
public struct NamedValue: Sendable, Equatable {
    public var name: String, value: Double
    public init(_ name: String, _ value: Double) { self.name = name; self.value = value }
}

/// Optimizer kind, scalars and the names of its per-parameter buffers.
public struct OptimizerRecord: Sendable, Equatable {
    public var kind = ""
    public var hyperParameters: [NamedValue] = []
    public var step = 0
    public var buffers: [String] = []
    public init() {}
}

/// Learning-rate schedule kind and parameters.
public struct ScheduleRecord: Sendable, Equatable {
    public var kind = ""
    public var parameters: [NamedValue] = []
    public var step = 0
    public init() {}
}

/// A metric value at a step.
public struct MetricPoint: Sendable, Equatable {
    public var name: String, step: Int, value: Double
    public init(name: String, step: Int, value: Double) { self.name = name; self.step = step; self.value = value }
}

/// What the model was built from.
public struct ModelRecord: Sendable, Equatable {
    public var name = ""
    /// Settings with their whole values; the manifest stores a value longer than a checkpoint string
    /// may be (a BPE `tokenizer`) as `key`, `key#2`, `key#3`, … and the reader joins them again.
    public var settings: [KeyValue] = []
    public var parameterCount = 0
    public init() {}
}

extension KeyValue {
    /// `values` as a checkpoint stores them: each value cut into pieces of at most `limit` UTF-8
    /// bytes (whole characters), the pieces after the first under `key#2`, `key#3`, … (model
    /// settings such as a BPE `tokenizer`, and `inference.*` metadata).
    static func inPieces(_ values: [KeyValue], limit: Int) -> [KeyValue] {
        values.flatMap { kv -> [KeyValue] in
            guard kv.value.utf8.count > limit else { return [kv] }
            var parts: [String] = [""]
            for c in kv.value {
                if parts[parts.count - 1].utf8.count + c.utf8.count > limit { parts.append("") }
                parts[parts.count - 1].append(c)
            }
            return parts.enumerated().map { KeyValue(kv.key + ($0.offset == 0 ? "" : "#\($0.offset + 1)"), $0.element) }
        }
    }

    /// Pieces joined again: `key#N` (N ≥ 2) continues the value of the `key` just before it.
    static func joiningPieces(_ stored: [KeyValue]) -> [KeyValue] {
        var out: [KeyValue] = []
        for kv in stored {
            if let hash = kv.key.lastIndex(of: "#"), let n = Int(kv.key[kv.key.index(after: hash)...]), n >= 2,
               let last = out.last, last.key == kv.key[..<hash] {
                out[out.count - 1].value += kv.value
            } else {
                out.append(kv)
            }
        }
        return out
    }
}

/// Which global sample comes next (world-size independent).
public struct DataCursorRecord: Sendable, Equatable {
    public var shuffleSeed: UInt64 = 0
    public var epoch = 0
    public var sampleInEpoch = 0
    public var samplesConsumed = 0
    public var dataset = ""
    public var datasetSize = 0
    /// What the data is (`mnist`, `fashion-mnist`, `iris.csv`, `synthetic`, …); empty in older checkpoints.
    public var dataName = ""
    /// SHA-256 fingerprint of the training data's content (lower-case hex); empty in older checkpoints.
    public var dataSHA256 = ""
    public init() {}
}

/// The checkpoint manifest.
public struct Manifest: Sendable, Equatable {
    /// The format this code writes and reads.
    public static let currentFormatVersion: UInt32 = 1

    public var formatVersion = Manifest.currentFormatVersion
    public var cohortVersion = ""
    public var createdUnixMs: Int64 = 0
    public var step = 0
    public var epoch = 0
    public var data = DataCursorRecord()
    public var globalBatchSize = 0
    public var worldSize = 1
    public var virtualShards = 0
    public var model = ModelRecord()
    public var rng: [RNGRecord] = []
    public var optimizer = OptimizerRecord()
    public var schedule = ScheduleRecord()
    public var metrics: [MetricPoint] = []
    public var metadata: [KeyValue] = []
    public var trainingConfig: [KeyValue] = []
    public var tensors: [TensorRecord] = []
    public init() {}

    /// The record named `name`, if present (linear search; `Checkpoint` keeps an index).
    public func tensor(named name: String) -> TensorRecord? { tensors.first { $0.name == name } }
}
