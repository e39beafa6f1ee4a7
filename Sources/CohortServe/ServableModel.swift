// What `cohort serve` needs of a model: its name, version, tensor signature and a thread-safe batch forward.
// CohortServe knows nothing of tensors or checkpoints; the executable adapts an InferenceModel to this protocol (ServeInferenceModel).

/// The element type of an Open Inference Protocol tensor this server accepts or returns.
public enum ServeDatatype: String, Sendable, Codable {
    /// 32-bit float (image and tabular models).
    case fp32 = "FP32"
    /// 64-bit integer (token ids for text models).
    case int64 = "INT64"
    /// Strings (a text model's prompts in, their continuations out).
    case bytes = "BYTES"
}

/// The signature of one input or output tensor, without the batch dimension.
public struct TensorSignature: Sendable, Equatable {
    /// The tensor's name in requests and responses.
    public var name: String
    /// Its element type.
    public var datatype: ServeDatatype
    /// Its shape per row (the batch dimension, `-1`, is prepended in metadata).
    public var shape: [Int]

    /// A signature named `name` of `datatype` with per-row `shape`.
    public init(name: String, datatype: ServeDatatype, shape: [Int]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
    }

    /// Elements per row: the product of `shape`.
    public var elementsPerRow: Int { shape.reduce(1, *) }
}

/// A model the server can run: immutable metadata plus a batch forward that may be called from any thread.
///
/// Inputs arrive as `count` rows of `input.elementsPerRow` values each (INT64 token ids are passed as
/// exact Float values); the result is `count` rows of `output.elementsPerRow` values. A text model
/// (`input.datatype == .bytes`) takes prompts instead, through `generate`.
public protocol ServableModel: Sendable {
    /// The model's name (the `{name}` of `/v2/models/{name}`).
    var name: String { get }
    /// A version string (a checkpoint's step, for instance).
    var version: String { get }
    /// The one input tensor's signature.
    var input: TensorSignature { get }
    /// The one output tensor's signature.
    var output: TensorSignature { get }
    /// Runs the model on `count` rows laid out contiguously in `rows`; returns `count × output.elementsPerRow` values.
    /// - Throws: when the model cannot run these rows (the message names what is wrong).
    func infer(rows: [Float], count: Int) throws -> [Float]
    /// A text model's continuation of `prompt`: at most `maxTokens` new tokens.
    /// - Throws: `ServeError.badRequest` naming what is wrong with the prompt.
    func generate(prompt: String, maxTokens: Int) throws -> String
}

extension ServableModel {
    /// Whether requests carry text prompts (BYTES) for `generate` rather than rows for `infer`.
    public var isTextModel: Bool { input.datatype == .bytes }

    /// A row model has no text generation.
    public func generate(prompt: String, maxTokens: Int) throws -> String {
        throw ServeError.badRequest("model \(name) takes \(input.datatype.rawValue) rows, not text prompts")
    }
}
