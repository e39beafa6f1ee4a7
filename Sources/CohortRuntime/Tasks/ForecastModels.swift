// The forecasting networks of `cohort train --task forecast`: L standardized values
// `[B, L]` → the next H values `[B, H]` (direct multi-step). Each scalar is projected
// to a vector (the input projection), read by an LSTM, a GRU or causal transformer
// blocks, and the last position's state is mapped to the H forecasts.
import CohortCore
import CohortNN
import CohortTensor

/// `[B, L]` → Linear(1 → E) → LSTM or GRU (hidden N, layers K) → last step → Linear(N → H) → `[B, H]`.
public final class RecurrentForecaster: Module {
    public let inputProjection: Linear
    /// An `LSTM` or a `GRU`, batch-first.
    public let recurrent: any Module
    public let head: Linear
    public let context: Int, horizon: Int
    public var isTraining = true

    /// - Throws: `CohortError.invalidParameter` for a cell other than `lstm`/`gru` or sizes below 1.
    public init(cell: String, context: Int, horizon: Int, projection: Int, hidden: Int, layers: Int, generator: inout RandomGenerator) throws {
        guard projection >= 1, hidden >= 1, layers >= 1 else {
            throw CohortError.invalidParameter(name: "hidden", "the forecaster needs --embedding, --hidden and --layers ≥ 1, got \(projection), \(hidden), \(layers)")
        }
        inputProjection = Linear(1, projection, generator: &generator)
        switch cell {
        case "lstm": recurrent = try LSTM(inputSize: projection, hiddenSize: hidden, layers: layers, generator: &generator)
        case "gru": recurrent = try GRU(inputSize: projection, hiddenSize: hidden, layers: layers, generator: &generator)
        default: throw CohortError.invalidParameter(name: "model", "the recurrent forecaster takes lstm or gru, got '\(cell)'")
        }
        head = Linear(hidden, horizon, generator: &generator)
        (self.context, self.horizon) = (context, horizon)
    }

    public var children: [(name: String, module: any Module)] { [("input_proj", inputProjection), ("rnn", recurrent), ("head", head)] }

    /// `x: [B, L]` standardized values → `[B, H]`.
    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 2, x.shape[1] == context else {
            throw CohortError.shapeMismatch(op: "RecurrentForecaster", "expected [batch, \(context)] values, got \(describeShape(x.shape))")
        }
        let b = x.shape[0]
        let h = try recurrent(try inputProjection(try x.reshape([b, context, 1])))
        let last = try h.slice(axis: 1, context - 1, context).reshape([b, h.shape[2]])
        return try head(last)
    }
}

extension RecurrentForecaster: SummaryComposite {
    public func summaryParts(input: [Int]) throws -> (parts: [(name: String, module: any Module, input: [Int])], output: [Int]) {
        let b = try Self.batch(of: input, context: context, model: "RecurrentForecaster")
        let hidden = (recurrent as? RecurrentBase)?.hiddenSize ?? head.inFeatures
        return ([("input_proj", inputProjection, [b, context, 1]), ("rnn", recurrent, [b, context, inputProjection.outFeatures]),
                 ("head", head, [b, hidden])], [b, horizon])
    }

    /// The batch of a `[B, context]` input.
    static func batch(of input: [Int], context: Int, model: String) throws -> Int {
        guard input.count == 2, input[1] == context else {
            throw CohortError.shapeMismatch(op: "summary", "\(model): expected [batch, \(context)] values, got \(describeShape(input))")
        }
        return input[0]
    }
}

/// `[B, L]` → Linear(1 → D) + learned positions → K causal transformer blocks → LayerNorm → last
/// position → Linear(D → H) → `[B, H]`.
public final class TransformerForecaster: Module {
    public let inputProjection: Linear
    public let positions: Tensor
    public let blocks: [TransformerBlock]
    public let finalNorm: LayerNorm
    public let head: Linear
    public let context: Int, horizon: Int
    public var isTraining = true

    /// - Throws: `CohortError.invalidParameter(name: "heads")` unless `heads` divides `dModel`.
    public init(context: Int, horizon: Int, dModel: Int, heads: Int, layers: Int, generator: inout RandomGenerator) throws {
        guard dModel >= 1, heads >= 1, dModel % heads == 0, layers >= 1 else {
            throw CohortError.invalidParameter(name: "heads", "the transformer forecaster needs --heads dividing --d-model and --layers ≥ 1, got \(heads), \(dModel), \(layers)")
        }
        inputProjection = Linear(1, dModel, generator: &generator)
        positions = parameter(Tensor.randn([context, dModel], std: 0.02, generator: &generator))
        blocks = try (0..<layers).map { _ in try TransformerBlock(dModel: dModel, heads: heads, causal: true, generator: &generator) }
        finalNorm = LayerNorm(dModel)
        head = Linear(dModel, horizon, generator: &generator)
        (self.context, self.horizon) = (context, horizon)
    }

    public var localParameters: [(name: String, tensor: Tensor)] { [("wpe", positions)] }
    public var children: [(name: String, module: any Module)] {
        [("input_proj", inputProjection as any Module)] + blocks.enumerated().map { ("h.\($0.offset)", $0.element as any Module) }
            + [("ln_f", finalNorm), ("head", head)]
    }

    /// `x: [B, L]` standardized values → `[B, H]`.
    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank == 2, x.shape[1] == context else {
            throw CohortError.shapeMismatch(op: "TransformerForecaster", "expected [batch, \(context)] values, got \(describeShape(x.shape))")
        }
        let b = x.shape[0], d = positions.shape[1]
        var h = try inputProjection(try x.reshape([b, context, 1])) + positions
        for block in blocks { h = try block(h) }
        let last = try finalNorm(h).slice(axis: 1, context - 1, context).reshape([b, d])
        return try head(last)
    }
}

extension TransformerForecaster: SummaryComposite {
    public func summaryParts(input: [Int]) throws -> (parts: [(name: String, module: any Module, input: [Int])], output: [Int]) {
        let b = try RecurrentForecaster.batch(of: input, context: context, model: "TransformerForecaster")
        let d = positions.shape[1], sequence = [b, context, d]
        let blockParts = blocks.enumerated().map { (name: "h.\($0.offset)", module: $0.element as any Module, input: sequence) }
        return ([("input_proj", inputProjection, [b, context, 1])] + blockParts + [("ln_f", finalNorm, sequence), ("head", head, [b, d])],
                [b, horizon])
    }
}

/// The forecasters `--model` names for `--task forecast`.
public enum ForecastModels {
    public static let names = ["lstm", "gru", "gpt"]
    /// The recurrent forecasters' `--hidden` when not given.
    public static let defaultHidden = "64"
    /// The model record name a forecast checkpoint keeps (`forecast-lstm`, …): the other commands'
    /// model zoo does not rebuild it and says so.
    public static func recordName(_ model: String) -> String { "forecast-" + model }

    /// The forecaster for `spec` over `context` values predicting `horizon`.
    /// - Throws: `CohortError.invalidParameter(name: "model")` for a model not in `names`.
    public static func build(_ spec: ModelSpec, context: Int, horizon: Int, generator: inout RandomGenerator) throws -> any Module {
        switch spec.name {
        case "lstm", "gru":
            return try RecurrentForecaster(cell: spec.name, context: context, horizon: horizon, projection: spec.embedding,
                                           hidden: spec.hidden.first ?? 64, layers: spec.layers, generator: &generator)
        case "gpt":
            return try TransformerForecaster(context: context, horizon: horizon, dModel: spec.dModel, heads: spec.heads, layers: spec.layers, generator: &generator)
        default:
            throw CohortError.invalidParameter(name: "model", "--task forecast takes \(names.joined(separator: ", ")); got '\(spec.name)'")
        }
    }
}
