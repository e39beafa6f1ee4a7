// Student's t with location and scale, as a distribution over tensors (the
// parameterless CohortStats.StudentT supplies its CDF and quantile).
// Why two `StudentT`s: this one is the tensor API (batched ν, μ, σ; differentiable
// log-density; sampling); `CohortStats.StudentT` is the scalar standard t that
// hypothesis tests and intervals use without tensors. The math is written once: CDF
// and quantile call CohortStats', log Γ and ψ are CohortStats' functions wrapped as
// differentiable ops (TensorSpecialFunctions.swift); only the log-density is a tensor
// expression, because it must be differentiable.
#if canImport(Glibc)
import Glibc
#endif
import CohortCore
import CohortStats
import CohortTensor

/// Student's t with `degreesOfFreedom` ν > 0, location μ and scale σ > 0: X = μ + σT.
public struct StudentT: UnivariateDistribution {
    /// The degrees of freedom ν.
    public let degreesOfFreedom: Tensor
    /// The location μ.
    public let loc: Tensor
    /// The scale σ.
    public let scale: Tensor
    public let batchShape: [Int]
    public var eventShape: [Int] { [] }

    /// t(ν, μ, σ); throws unless ν and σ are finite and > 0.
    public init(degreesOfFreedom: Tensor, loc: Tensor, scale: Tensor) throws {
        try checkParameter(degreesOfFreedom, "StudentT", "degreesOfFreedom", "finite and > 0") { $0.isFinite && $0 > 0 }
        try checkParameter(scale, "StudentT", "scale", "finite and > 0") { $0.isFinite && $0 > 0 }
        self.degreesOfFreedom = degreesOfFreedom; self.loc = loc; self.scale = scale
        batchShape = try CohortProbability.batchShape(of: [degreesOfFreedom, loc, scale], "StudentT")
    }

    /// t(ν, μ, σ) with scalar parameters.
    public init(degreesOfFreedom: Float, loc: Float = 0, scale: Float = 1) throws {
        try self.init(degreesOfFreedom: Tensor.full([], degreesOfFreedom), loc: Tensor.full([], loc), scale: Tensor.full([], scale))
    }

    /// μ + σ Z / √(V/ν) with Z ~ N(0, 1) and V ~ χ²(ν) = 2·Gamma(ν/2).
    public func sample(_ count: Int, generator: inout RandomGenerator) throws -> Tensor {
        try drawScalars(count, [degreesOfFreedom, loc, scale], shape: batchShape, "StudentT", generator: &generator) { g, p in
            let z = Variates.normal(&g), v = 2 * exp(Variates.logGamma(p[0] / 2, &g))
            return p[1] + p[2] * z / (v / p[0]).squareRoot()
        }
    }

    /// log Γ((ν+1)/2) − log Γ(ν/2) − ½ log(νπ) − log σ − (ν+1)/2 · log(1 + ((x − μ)/σ)²/ν).
    public func logProb(_ value: Tensor) throws -> Tensor {
        let v = degreesOfFreedom, half = try (v + 1) * 0.5
        let z = try (value - loc) / scale
        return try logGammaOp(half) - logGammaOp(v * 0.5) - (v * Float.pi).log() * 0.5 - scale.log()
            - half * (z.square() / v + 1).log()
    }

    /// μ where ν > 1; throws where ν ≤ 1 (the mean does not exist).
    public var mean: Tensor {
        get throws {
            try checkParameter(degreesOfFreedom, "StudentT.mean", "degreesOfFreedom", "> 1 for the mean to exist") { $0 > 1 }
            return try loc + constant(0, batchShape)
        }
    }

    /// σ²ν/(ν − 2) where ν > 2, +∞ for 1 < ν ≤ 2; throws where ν ≤ 1.
    public var variance: Tensor {
        get throws {
            try checkParameter(degreesOfFreedom, "StudentT.variance", "degreesOfFreedom", "> 1 for the variance to exist") { $0 > 1 }
            return try mapDoubles([degreesOfFreedom, scale], "StudentT.variance") { $0[0] > 2 ? $0[1] * $0[1] * $0[0] / ($0[0] - 2) : .infinity }
        }
    }

    /// (ν+1)/2 · [ψ((ν+1)/2) − ψ(ν/2)] + ½ log ν + log B(ν/2, ½) + log σ.
    public func entropy() throws -> Tensor {
        let v = degreesOfFreedom, half = try (v + 1) * 0.5, vh = try v * 0.5
        return try half * (digammaOp(half) - digammaOp(vh)) + v.log() * 0.5 + logBetaOp(vh, constant(0.5, [])) + scale.log()
    }

    public func cdf(_ x: Tensor) throws -> Tensor {
        try mapDoubles([x, degreesOfFreedom, loc, scale], "StudentT.cdf") {
            try CohortStats.StudentT(degreesOfFreedom: $0[1]).cdf(($0[0] - $0[2]) / $0[3])
        }
    }

    public func quantile(_ p: Tensor) throws -> Tensor {
        try mapDoubles([p, degreesOfFreedom, loc, scale], "StudentT.quantile") { v in
            try checkProbability(v[0], "StudentT.quantile")
            return v[2] + v[3] * (try CohortStats.StudentT(degreesOfFreedom: v[1]).quantile(v[0]))
        }
    }
}
