// Activation modules beyond ReLU/GELU/Tanh/Sigmoid, named and parameterised as
// PyTorch's: LeakyReLU, ELU, SiLU, Softplus, Mish, and PReLU with learned slopes.
import CohortCore
import CohortTensor

/// `x > 0 ? x : negativeSlope·x` (`torch.nn.LeakyReLU`, default slope 0.01).
public final class LeakyReLU: Module {
    public var isTraining = true
    public let negativeSlope: Float
    public init(negativeSlope: Float = 0.01) { self.negativeSlope = negativeSlope }
    public func forward(_ x: Tensor) throws -> Tensor { x.leakyRelu(negativeSlope: negativeSlope) }
}

/// `x > 0 ? x : α·(eˣ − 1)` (`torch.nn.ELU`, default α = 1).
public final class ELU: Module {
    public var isTraining = true
    public let alpha: Float
    public init(alpha: Float = 1) { self.alpha = alpha }
    public func forward(_ x: Tensor) throws -> Tensor { x.elu(alpha: alpha) }
}

/// `x·σ(x)` (`torch.nn.SiLU`, also called swish).
public final class SiLU: Module {
    public var isTraining = true
    public init() {}
    public func forward(_ x: Tensor) throws -> Tensor { x.silu() }
}

/// `log(1 + e^{βx}) / β`, linear where `βx > threshold` (`torch.nn.Softplus`, defaults β = 1, threshold 20).
public final class Softplus: Module {
    public var isTraining = true
    public let beta: Float, threshold: Float
    public init(beta: Float = 1, threshold: Float = 20) { self.beta = beta; self.threshold = threshold }
    public func forward(_ x: Tensor) throws -> Tensor { x.softplus(beta: beta, threshold: threshold) }
}

/// `x·tanh(softplus(x))` (`torch.nn.Mish`).
public final class Mish: Module {
    public var isTraining = true
    public init() {}
    public func forward(_ x: Tensor) throws -> Tensor { x.mish() }
}

/// `x > 0 ? x : a·x` with learned slopes `a` (`torch.nn.PReLU`): parameter `weight` of
/// `[numParameters]`, 1 (shared) or the input's channel count (dimension 1 of `[N, C, …]`),
/// initialised to `initialValue` (0.25).
public final class PReLU: Module {
    /// `[numParameters]` slopes.
    public let weight: Tensor
    public var isTraining = true
    public let numParameters: Int

    /// - Throws: `CohortError.invalidArgument` if `numParameters` < 1.
    public init(numParameters: Int = 1, initialValue: Float = 0.25) throws {
        guard numParameters >= 1 else { throw CohortError.invalidArgument("PReLU: numParameters must be ≥ 1, got \(numParameters)") }
        self.numParameters = numParameters
        weight = parameter(try Tensor([Float](repeating: initialValue, count: numParameters), shape: [numParameters]))
    }

    public var localParameters: [(name: String, tensor: Tensor)] { [("weight", weight)] }

    public func forward(_ x: Tensor) throws -> Tensor { try Tensor.prelu(x, weight: weight) }
}
