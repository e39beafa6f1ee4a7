// The Embedding layer: a [vocab, dim] table looked up by integer ids. Its
// weight can be shared with another module (weight tying); `namedParameters()`
// then lists the shared tensor once, under its first name.
import CohortCore
import CohortTensor

/// A lookup table `weight: [vocabularySize, dimension]`, initialised N(0, 1) like PyTorch.
///
/// `forward(ids)` takes ids stored as floats of any shape `[…]` and returns `[…, dimension]`;
/// `forward(indices:shape:)` takes them as integers. A bad id throws, naming it, its
/// position and the vocabulary size.
public final class Embedding: Module {
    /// The table `[vocabularySize, dimension]`.
    public let weight: Tensor
    public var isTraining = true
    public let vocabularySize: Int, dimension: Int

    /// A fresh table with N(0, 1) entries.
    public init(_ vocabularySize: Int, _ dimension: Int, generator: inout RandomGenerator) {
        self.vocabularySize = vocabularySize
        self.dimension = dimension
        weight = parameter(Tensor.randn([vocabularySize, dimension], generator: &generator))
    }

    /// Shares `weight` (`[V, D]`, already a parameter of another module, or a new one):
    /// both modules then read and train the same tensor.
    /// - Throws: `CohortError.shapeMismatch` if `weight` is not 2-D.
    public init(sharing weight: Tensor) throws {
        guard weight.rank == 2 else {
            throw CohortError.shapeMismatch(op: "Embedding(sharing:)", "weight must be [vocab, dim], got \(describeShape(weight.shape))")
        }
        self.weight = weight.requiresGrad ? weight : parameter(weight)
        vocabularySize = weight.shape[0]
        dimension = weight.shape[1]
    }

    public var localParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }

    /// `ids: […]` (integer values as floats) → `[…, dimension]`.
    public func forward(_ ids: Tensor) throws -> Tensor { try Tensor.embedding(weight, ids: ids) }

    /// Integer ids of `shape` (row-major) → `[shape…, dimension]`.
    public func forward(indices: [Int], shape: [Int]) throws -> Tensor {
        try Tensor.embedding(weight, indices: indices, shape: shape)
    }
}
