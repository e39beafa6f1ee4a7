// Basic layers: Linear, Sequential, Flatten and the activation modules.
import CohortCore
import CohortTensor

/// `y = x Wᵀ + b` for `x: [.., inFeatures]`, `W: [outFeatures, inFeatures]`, `b: [outFeatures]`.
/// Initialised like PyTorch: W, b ~ U(-1/√in, 1/√in).
public final class Linear: Module {
    public let weight: Tensor
    public let bias: Tensor?
    public var isTraining = true
    public let inFeatures: Int, outFeatures: Int

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: inout RandomGenerator) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        let bound = 1 / Float(max(inFeatures, 1)).squareRoot()
        weight = parameter(Tensor.rand([outFeatures, inFeatures], low: -bound, high: bound, generator: &generator))
        self.bias = bias ? parameter(Tensor.rand([outFeatures], low: -bound, high: bound, generator: &generator)) : nil
    }

    public var localParameters: [(name: String, tensor: Tensor)] {
        bias.map { [("weight", weight), ("bias", $0)] } ?? [("weight", weight)]
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures else {
            throw CohortError.shapeMismatch(op: "Linear(\(inFeatures), \(outFeatures))",
                                            "input \(describeShape(x.shape)) must have last dimension \(inFeatures) (weight \(describeShape(weight.shape)))")
        }
        return try Tensor.linear(x, weight: weight, bias: bias)
    }

    /// `residual + forward(x)` in one op (`Tensor.linear(_:weight:bias:residual:)`): the sum
    /// is accumulated by the GEMM, no separate output is kept for an add. A timeline event of
    /// this layer when tracing has registered it, as `callAsFunction`.
    /// - Throws: `CohortError.shapeMismatch` for a wrong input or residual shape.
    public func forward(_ x: Tensor, residual: Tensor) throws -> Tensor {
        guard x.rank >= 1, x.shape[x.rank - 1] == inFeatures else { return try forward(x) }   // the shape error
        if let tracer = Trace.recorder, let scope = tracer.scope(of: ObjectIdentifier(self)) {
            return try tracer.forward(scope: scope) { try Tensor.linear(x, weight: weight, bias: bias, residual: residual) }
        }
        return try Tensor.linear(x, weight: weight, bias: bias, residual: residual)
    }
}

/// Runs modules in order; children are named `0`, `1`, ….
public final class Sequential: Module {
    public let layers: [any Module]
    public var isTraining = true

    public init(_ layers: [any Module]) { self.layers = layers }

    public var children: [(name: String, module: any Module)] { layers.enumerated().map { ("\($0.offset)", $0.element) } }

    public func forward(_ x: Tensor) throws -> Tensor {
        var h = x
        for l in layers { h = try l(h) }
        return h
    }
}

/// Flattens all dimensions after the first: `[B, …] → [B, prod(…)]`.
public final class Flatten: Module {
    public var isTraining = true
    public init() {}
    public func forward(_ x: Tensor) throws -> Tensor { try x.flatten(from: 1) }
}

/// max(x, 0).
public final class ReLU: Module {
    public var isTraining = true
    public init() {}
    public func forward(_ x: Tensor) throws -> Tensor { x.relu() }
}

/// GELU (exact erf form).
public final class GELU: Module {
    public var isTraining = true
    public init() {}
    public func forward(_ x: Tensor) throws -> Tensor { x.gelu() }
}

/// tanh.
public final class Tanh: Module {
    public var isTraining = true
    public init() {}
    public func forward(_ x: Tensor) throws -> Tensor { x.tanh() }
}

/// Logistic sigmoid.
public final class Sigmoid: Module {
    public var isTraining = true
    public init() {}
    public func forward(_ x: Tensor) throws -> Tensor { x.sigmoid() }
}

/// Softmax along `axis`.
public final class Softmax: Module {
    public var isTraining = true
    public let axis: Int
    public init(axis: Int = -1) { self.axis = axis }
    public func forward(_ x: Tensor) throws -> Tensor { try x.softmax(axis: axis) }
}

/// Inverted dropout: in training, zeroes each element with probability `p` and scales
/// the rest by 1/(1-p); identity in evaluation. Draws from its own seeded generator,
/// whose state can be saved and restored.
public final class Dropout: Module, RandomStateful {
    public var isTraining = true
    public let p: Float
    public var generator: RandomGenerator

    public init(_ p: Float = 0.5, seed: UInt64 = 0) throws {
        guard p >= 0 && p < 1 else { throw CohortError.invalidArgument("Dropout: p must be in [0, 1), got \(p)") }
        self.p = p
        self.generator = RandomGenerator(seed: seed ^ 0xD509_0A7)
    }

    public var randomState: [UInt64] {
        get { generator.state }
        set { generator = RandomGenerator(state: newValue) }
    }

    public func forward(_ x: Tensor) throws -> Tensor {
        guard isTraining, p > 0 else { return x }
        let mask = Tensor.rand(x.shape, generator: &generator)
        let scale = 1 / (1 - p)
        let m = try mask.ge(Tensor.scalar(p))
        return try x * (m * scale).detached()
    }
}
