// The models `cohort train --model NAME` can build, by name, and the settings
// that rebuild them from a checkpoint (`cohort generate`, exports).
import CohortCheckpoint
import CohortCore
import CohortNN
import CohortTensor

/// A model's name and sizes, as the CLI flags give them and checkpoints record them.
public struct ModelSpec {
    public var name: String
    /// MLP widths; the LSTM's hidden size is the first.
    public var hidden: [Int]
    /// Transformer / LSTM layers.
    public var layers = 4
    /// Attention heads.
    public var heads = 4
    /// Transformer width.
    public var dModel = 256
    /// LSTM embedding width.
    public var embedding = 64

    /// The sizes as checkpoint settings.
    public var settings: [KeyValue] {
        [KeyValue("hidden", hidden.map(String.init).joined(separator: ",")), KeyValue("layers", "\(layers)"),
         KeyValue("heads", "\(heads)"), KeyValue("d_model", "\(dModel)"), KeyValue("embedding", "\(embedding)")]
    }

    public init(name: String, hidden: [Int], layers: Int, heads: Int, dModel: Int, embedding: Int) {
        self.name = name; self.hidden = hidden; self.layers = layers; self.heads = heads; self.dModel = dModel; self.embedding = embedding
    }

    /// Sizes read back from checkpoint settings (missing ones keep their defaults).
    public init(name: String, settings: [String: String]) {
        self.name = name
        hidden = (settings["hidden"] ?? "").split(separator: ",").compactMap { Int($0) }
        layers = settings["layers"].flatMap { Int($0) } ?? layers
        heads = settings["heads"].flatMap { Int($0) } ?? heads
        dModel = settings["d_model"].flatMap { Int($0) } ?? dModel
        embedding = settings["embedding"].flatMap { Int($0) } ?? embedding
    }
}

/// Builds the models the CLI knows by name.
public enum ModelZoo {
    public static let names = ["mlp", "cnn", "resnet", "lstm", "gpt"]
    /// Models over token sequences (`[B, T]` ids → `[B, T, V]` logits).
    public static let sequenceModels: Set<String> = ["lstm", "gpt"]

    /// The default `--hidden` of each model.
    public static func defaultHidden(_ name: String) -> String { name == "lstm" ? "256" : "512,256" }

    /// An MLP `inputs → hidden… → classes` with ReLU between layers; inputs of any
    /// shape `[B, …]` are flattened first.
    public static func mlp(inputs: Int, hidden: [Int], classes: Int, generator: inout RandomGenerator) -> Sequential {
        var layers: [any Module] = [Flatten()]
        var width = inputs
        for h in hidden {
            layers.append(Linear(width, h, generator: &generator))
            layers.append(ReLU())
            width = h
        }
        layers.append(Linear(width, classes, generator: &generator))
        return Sequential(layers)
    }

    /// Resolves `spec` for data of `shape`, or throws an error naming the flag at fault.
    public static func build(_ spec: ModelSpec, shape: ModelShape, generator: inout RandomGenerator) throws -> any Module {
        let sequence = sequenceModels.contains(spec.name)
        if names.contains(spec.name) && sequence != shape.sequence {
            throw CohortError.invalidParameter(name: "model", sequence
                ? "\(spec.name) reads token sequences, but `data` holds feature vectors; give a text file or 'addition'"
                : "\(spec.name) classifies feature vectors, but `data` holds token sequences; use \(sequenceModels.sorted().joined(separator: " or "))")
        }
        switch spec.name {
        case "mlp": return mlp(inputs: shape.inputs, hidden: spec.hidden, classes: shape.outputs, generator: &generator)
        case "cnn", "resnet":
            guard shape.inputs == 784 else {
                throw CohortError.invalidParameter(name: "model", "\(spec.name) takes 28×28 single-channel images (784 features), the data has \(shape.inputs)")
            }
            return spec.name == "cnn" ? ConvModels.leNet(classes: shape.outputs, generator: &generator)
                                      : try ConvModels.resNet(classes: shape.outputs, generator: &generator)
        case "lstm":
            return try CharLSTM(vocabularySize: shape.outputs, embeddingDim: spec.embedding, hidden: spec.hidden.first ?? 256,
                                layers: max(spec.layers, 1), generator: &generator)
        case "gpt":
            guard spec.heads > 0, spec.dModel % spec.heads == 0 else {
                throw CohortError.invalidParameter(name: "heads", "\(spec.heads) heads must divide `dModel` \(spec.dModel)")
            }
            return try GPT(GPTConfig(vocabSize: shape.outputs, contextLength: shape.inputs, layers: spec.layers,
                                     heads: spec.heads, dModel: spec.dModel), generator: &generator)
        default:
            throw CohortError.invalidParameter(name: "model", "unknown model '\(spec.name)'; known models: \(names.joined(separator: ", "))")
        }
    }
}
