// The models `cohort train --model NAME` can build, by name.
import CohortNN
import CohortCore

/// Builds the models the CLI knows by name.
enum ModelZoo {
    static let names = ["mlp"]
    /// Models over token sequences (`[B, T]` ids → `[B, T, V]` logits).
    static let sequenceModels: Set<String> = []

    /// An MLP `inputs → hidden… → classes` with ReLU between layers; inputs of any
    /// shape `[B, …]` are flattened first.
    static func mlp(inputs: Int, hidden: [Int], classes: Int, generator: inout RandomGenerator) -> Sequential {
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

    /// Resolves `name` or throws an error listing the known models.
    static func build(_ name: String, shape: ModelShape, hidden: [Int], generator: inout RandomGenerator) throws -> any Module {
        switch name {
        case "mlp" where !shape.sequence: return mlp(inputs: shape.inputs, hidden: hidden, classes: shape.outputs, generator: &generator)
        case "mlp":
            throw CohortError.badFlag(flag: "--model", "mlp classifies feature vectors, but --data holds token sequences; use a sequence model"
                                      + (sequenceModels.isEmpty ? "" : " (\(sequenceModels.sorted().joined(separator: ", ")))"))
        default:
            throw CohortError.badFlag(flag: "--model", "unknown model '\(name)'; known models: \(names.joined(separator: ", "))")
        }
    }
}
