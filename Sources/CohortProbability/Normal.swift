// The normal distribution N(loc, scale²), with reparameterized sampling: `rsample`
// returns loc + scale·ε (ε ~ N(0, 1) drawn from the generator), so gradients reach
// loc and scale through ordinary tensor ops.
// Why two `Normal`s: this one is the tensor API (batched parameters, differentiable
// log-density, sampling); `CohortStats.Normal` is the scalar N(0, 1) that statistical
// tests use without tensors. The math is written once: the CDF and quantile here
// call CohortStats', and draws come from CohortCore's `BoxMuller`; only the log-density
// and entropy are tensor expressions, because they must be differentiable.
#if canImport(Glibc)
import Glibc
#endif
import CohortCore
import CohortStats
import CohortTensor

/// The normal distribution with mean `loc` and standard deviation `scale` > 0 (broadcast together).
public struct Normal: UnivariateDistribution {
    /// The mean μ.
    public let loc: Tensor
    /// The standard deviation σ > 0.
    public let scale: Tensor
    public let batchShape: [Int]
    public var eventShape: [Int] { [] }

    /// N(`loc`, `scale`²); throws unless every scale is finite and > 0 or the shapes do not broadcast.
    public init(loc: Tensor, scale: Tensor) throws {
        try checkParameter(scale, "Normal", "scale", "finite and > 0") { $0.isFinite && $0 > 0 }
        self.loc = loc; self.scale = scale
        batchShape = try CohortProbability.batchShape(of: [loc, scale], "Normal")
    }

    /// N(`loc`, `scale`²) with scalar parameters.
    public init(loc: Float, scale: Float) throws { try self.init(loc: Tensor.full([], loc), scale: Tensor.full([], scale)) }

    public func sample(_ count: Int, generator: inout RandomGenerator) throws -> Tensor {
        try drawScalars(count, [loc, scale], shape: batchShape, "Normal", generator: &generator) { g, p in
            p[0] + p[1] * Variates.normal(&g)
        }
    }

    /// Reparameterized draws loc + scale·ε, shape `[count] + batchShape`: differentiable in loc and scale.
    public func rsample(_ count: Int, generator: inout RandomGenerator) throws -> Tensor {
        let epsilon = try drawScalars(count, [], shape: batchShape, "Normal", generator: &generator) { g, _ in Variates.normal(&g) }
        return try loc + scale * epsilon
    }

    /// −(x − μ)²/(2σ²) − log σ − ½ log 2π.
    public func logProb(_ value: Tensor) throws -> Tensor {
        let z = try (value - loc) / scale
        return try z.square() * -0.5 - scale.log() - Float(0.5 * log(2 * Double.pi))
    }

    public var mean: Tensor { get throws { try loc + constant(0, batchShape) } }
    public var variance: Tensor { get throws { try scale.square() + constant(0, batchShape) } }

    /// ½ + ½ log 2π + log σ.
    public func entropy() throws -> Tensor {
        try scale.log() + Float(0.5 + 0.5 * log(2 * Double.pi)) + constant(0, batchShape)
    }

    public func cdf(_ x: Tensor) throws -> Tensor {
        try mapDoubles([x, loc, scale], "Normal.cdf") { CohortStats.Normal.cdf(($0[0] - $0[1]) / $0[2]) }
    }

    public func quantile(_ p: Tensor) throws -> Tensor {
        try mapDoubles([p, loc, scale], "Normal.quantile") { v in
            try checkProbability(v[0], "Normal.quantile")
            return v[1] + v[2] * (try CohortStats.Normal.quantile(v[0]))
        }
    }
}
