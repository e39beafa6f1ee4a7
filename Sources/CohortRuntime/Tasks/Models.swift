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
    /// Dropout probability of the MLP's hidden layers and before the CNN's classifier (`--dropout`; 0: none,
    /// and then no Dropout layer exists, so parameter names and draws are those of a model without it).
    public var dropout: Float = 0
    /// The DCGAN's latent size (`--latent`; its base width is `hidden[0]`).
    public var latent = 64
    /// The DCGAN discriminator's pack (`--pack`; PacGAN; 1: one sample at a time).
    public var pack = 1

    /// The sizes as checkpoint settings.
    public var settings: [KeyValue] {
        [KeyValue("hidden", hidden.map(String.init).joined(separator: ",")), KeyValue("layers", "\(layers)"),
         KeyValue("heads", "\(heads)"), KeyValue("d_model", "\(dModel)"), KeyValue("embedding", "\(embedding)")]
            + (dropout > 0 ? [KeyValue("dropout", "\(dropout)")] : [])   // absent at 0: checkpoints as before
            + (name == "dcgan" ? [KeyValue("latent", "\(latent)")] : [])
            + (name == "dcgan" && pack > 1 ? [KeyValue("pack", "\(pack)")] : [])   // absent at 1: checkpoints as before
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
        dropout = settings["dropout"].flatMap { Float($0) } ?? 0
        latent = settings["latent"].flatMap { Int($0) } ?? latent
        pack = settings["pack"].flatMap { Int($0) } ?? 1
    }
}

/// Builds the models the CLI knows by name.
public enum ModelZoo {
    public static let names = ["mlp", "cnn", "resnet", "lstm", "gpt", "dcgan"]
    /// Models over token sequences (`[B, T]` ids → `[B, T, V]` logits).
    public static let sequenceModels: Set<String> = ["lstm", "gpt"]

    /// The default `--hidden` of each model.
    public static func defaultHidden(_ name: String) -> String { name == "lstm" ? "256" : name == "dcgan" || name == "detector" ? "32" : "512,256" }

    /// Models that generate samples instead of mapping inputs to outputs (`cohort generate` draws them).
    public static let generativeModels: Set<String> = ["dcgan"]
    /// The models that map inputs to outputs: what eval, predict, serve, export and quantize take.
    public static var predictiveModels: [String] { names.filter { !generativeModels.contains($0) } }

    /// Refuses a generative model for `command` (eval, predict, serve, export, quantize), naming the checkpoint
    /// and what to use instead.
    /// - Throws: `CohortError.invalidArgument` when `name` is a generative model.
    public static func refuseGenerative(_ name: String, path: String, command: String) throws {
        guard generativeModels.contains(name) else { return }
        throw CohortError.invalidArgument("\(path) holds a '\(name)' model (a GAN): `cohort \(command)` needs a classifier, regressor or "
                                          + "language model; `cohort generate --checkpoint \(path) --out FILE.png` writes its images")
    }

    /// The models `--dropout` applies to (the ResNet has batch norm instead; the sequence models have none yet).
    public static let dropoutModels = ["mlp", "cnn"]

    /// An MLP `inputs → hidden… → classes` with ReLU between layers (and `Dropout(dropout)` after each
    /// hidden ReLU when `dropout > 0`); inputs of any shape `[B, …]` are flattened first.
    public static func mlp(inputs: Int, hidden: [Int], classes: Int, dropout: Float = 0, generator: inout RandomGenerator) -> Sequential {
        var layers: [any Module] = [Flatten()]
        var width = inputs
        let seeds = dropoutSeeds(generator)
        for (i, h) in hidden.enumerated() {
            layers.append(Linear(width, h, generator: &generator))
            layers.append(ReLU())
            if dropout > 0 { layers.append(try! Dropout(dropout, seed: seeds &+ UInt64(i))) }   // p checked by the caller
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
        case "mlp":
            return mlp(inputs: shape.inputs, hidden: spec.hidden, classes: shape.outputs, dropout: try checkedDropout(spec), generator: &generator)
        case "cnn", "resnet":
            guard shape.inputs == 784 else {
                throw CohortError.invalidParameter(name: "model", "\(spec.name) takes 28×28 single-channel images (784 features), the data has \(shape.inputs)")
            }
            let p = try checkedDropout(spec), seed = dropoutSeeds(generator)
            let net = spec.name == "cnn" ? ConvModels.leNet(classes: shape.outputs, generator: &generator)
                                         : try ConvModels.resNet(classes: shape.outputs, generator: &generator)
            guard p > 0 else { return net }
            // Before the classifier, as PyTorch's MNIST example: fc1 → ReLU → Dropout → fc2.
            var layers = net.layers
            layers.insert(try Dropout(p, seed: seed), at: layers.count - 1)
            return Sequential(layers)
        case "dcgan":
            guard shape.inputs == 784 else {
                throw CohortError.invalidParameter(name: "model", "dcgan generates 28×28 single-channel images (784 features), the data has \(shape.inputs)")
            }
            guard spec.hidden.count == 1 else { throw CohortError.invalidParameter(name: "hidden", "dcgan takes one base width (e.g. --hidden 32), got \(spec.hidden)") }
            return try DCGAN(latent: spec.latent, width: spec.hidden[0], pack: spec.pack, generator: &generator)
        case "lstm" where spec.dropout > 0, "gpt" where spec.dropout > 0:
            throw CohortError.invalidParameter(name: "dropout", "--dropout applies to \(dropoutModels.joined(separator: " and ")); \(spec.name) has no dropout yet")
        case "lstm":
            return try CharLSTM(vocabularySize: shape.outputs, embeddingDim: spec.embedding, hidden: spec.hidden.first ?? 256,
                                layers: max(spec.layers, 1), generator: &generator)
        case "gpt":
            guard spec.heads > 0, spec.dModel % spec.heads == 0 else {
                throw CohortError.invalidParameter(name: "heads", "\(spec.heads) heads must divide `dModel` \(spec.dModel)")
            }
            return try GPT(GPTConfig(vocabSize: shape.outputs, contextLength: shape.inputs, layers: spec.layers,
                                     heads: spec.heads, dModel: spec.dModel), generator: &generator)
        case let name where name.hasPrefix("forecast-"):
            throw CohortError.invalidParameter(name: "model", "\(name) is a forecasting model (cohort train --task forecast); this command does not run forecast checkpoints yet: "
                                               + "the test scores and baselines are printed at the end of training and kept in --summary-json (docs/timeseries.md)")
        default:
            throw CohortError.invalidParameter(name: "model", "unknown model '\(spec.name)'; known models: \(names.joined(separator: ", "))")
        }
    }

    /// `spec.dropout`, when it is in [0, 1) and the model takes it.
    static func checkedDropout(_ spec: ModelSpec) throws -> Float {
        guard spec.dropout >= 0, spec.dropout < 1 else { throw CohortError.invalidParameter(name: "dropout", "must be in [0, 1), got \(spec.dropout)") }
        if spec.dropout > 0 && !dropoutModels.contains(spec.name) {
            throw CohortError.invalidParameter(name: "dropout", "--dropout applies to \(dropoutModels.joined(separator: " and ")); \(spec.name) has none")
        }
        return spec.dropout
    }

    /// The first Dropout seed, read from a copy of the run's generator: the Dropout layers' draws follow the
    /// run's seed, and the initialisation draws are those of the same model without dropout.
    static func dropoutSeeds(_ generator: RandomGenerator) -> UInt64 {
        var copy = generator
        return copy.next()
    }
}
