// Gamma(α, β) and Beta(α, β): log-densities from differentiable log Γ and ψ ops,
// CDFs and quantiles from CohortStats' regularized incomplete gamma and beta
// functions. Sampling: Marsaglia–Tsang for Gamma, two Gammas for Beta.
#if canImport(Glibc)
import Glibc
#endif
import CohortCore
import CohortStats
import CohortTensor

/// The gamma distribution with shape (concentration) α > 0 and rate β > 0: mean α/β.
public struct Gamma: UnivariateDistribution {
    /// The shape α.
    public let concentration: Tensor
    /// The rate β (1 / scale).
    public let rate: Tensor
    public let batchShape: [Int]
    public var eventShape: [Int] { [] }

    /// Gamma(`concentration`, `rate`); throws unless both are finite and > 0 elementwise.
    public init(concentration: Tensor, rate: Tensor) throws {
        try checkParameter(concentration, "Gamma", "concentration", "finite and > 0") { $0.isFinite && $0 > 0 }
        try checkParameter(rate, "Gamma", "rate", "finite and > 0") { $0.isFinite && $0 > 0 }
        self.concentration = concentration; self.rate = rate
        batchShape = try CohortProbability.batchShape(of: [concentration, rate], "Gamma")
    }

    /// Gamma with scalar parameters.
    public init(concentration: Float, rate: Float) throws {
        try self.init(concentration: Tensor.full([], concentration), rate: Tensor.full([], rate))
    }

    public func sample(_ count: Int, generator: inout RandomGenerator) throws -> Tensor {
        try drawScalars(count, [concentration, rate], shape: batchShape, "Gamma", generator: &generator) { g, p in
            exp(Variates.logGamma(p[0], &g)) / p[1]
        }
    }

    /// α log β + (α − 1) log x − βx − log Γ(α) for x > 0; −∞ for x < 0.
    public func logProb(_ value: Tensor) throws -> Tensor {
        let a = concentration, b = rate
        let lp = try a * b.log() + (a - 1) * value.clamp(min: 0).log() - b * value - logGammaOp(a)
        return try maskSupport(lp, value) { $0 >= 0 }
    }

    public var mean: Tensor { get throws { try concentration / rate } }
    public var variance: Tensor { get throws { try concentration / rate.square() } }

    /// α − log β + log Γ(α) + (1 − α) ψ(α).
    public func entropy() throws -> Tensor {
        let a = concentration
        return try a - rate.log() + logGammaOp(a) + (1 - a) * digammaOp(a)
    }

    /// P(α, βx).
    public func cdf(_ x: Tensor) throws -> Tensor {
        try mapDoubles([x, concentration, rate], "Gamma.cdf") { $0[0] <= 0 ? 0 : regularizedGammaP($0[1], $0[2] * $0[0]) }
    }

    public func quantile(_ p: Tensor) throws -> Tensor {
        try mapDoubles([p, concentration, rate], "Gamma.quantile") { v in
            try checkProbability(v[0], "Gamma.quantile")
            return try inverseRegularizedGammaP(v[1], v[0]) / v[2]
        }
    }
}

/// The beta distribution on (0, 1) with shapes α > 0 and β > 0: mean α/(α + β).
public struct Beta: UnivariateDistribution {
    /// The first shape α (weight of 1).
    public let alpha: Tensor
    /// The second shape β (weight of 0).
    public let beta: Tensor
    public let batchShape: [Int]
    public var eventShape: [Int] { [] }

    /// Beta(`alpha`, `beta`); throws unless both are finite and > 0 elementwise.
    public init(alpha: Tensor, beta: Tensor) throws {
        try checkParameter(alpha, "Beta", "alpha", "finite and > 0") { $0.isFinite && $0 > 0 }
        try checkParameter(beta, "Beta", "beta", "finite and > 0") { $0.isFinite && $0 > 0 }
        self.alpha = alpha; self.beta = beta
        batchShape = try CohortProbability.batchShape(of: [alpha, beta], "Beta")
    }

    /// Beta with scalar parameters.
    public init(alpha: Float, beta: Float) throws { try self.init(alpha: Tensor.full([], alpha), beta: Tensor.full([], beta)) }

    public func sample(_ count: Int, generator: inout RandomGenerator) throws -> Tensor {
        try drawScalars(count, [alpha, beta], shape: batchShape, "Beta", generator: &generator) { g, p in
            Variates.beta(p[0], p[1], &g)
        }
    }

    /// (α − 1) log x + (β − 1) log(1 − x) − log B(α, β) on [0, 1]; −∞ outside.
    public func logProb(_ value: Tensor) throws -> Tensor {
        let x = value.clamp(min: 0, max: 1)
        let lp = try (alpha - 1) * x.log() + (beta - 1) * (1 - x).log() - logBetaOp(alpha, beta)
        return try maskSupport(lp, value) { $0 >= 0 && $0 <= 1 }
    }

    public var mean: Tensor { get throws { try alpha / (alpha + beta) } }
    public var variance: Tensor {
        get throws { let s = try alpha + beta; return try alpha * beta / (s.square() * (s + 1)) }
    }

    /// log B(α, β) − (α − 1)ψ(α) − (β − 1)ψ(β) + (α + β − 2)ψ(α + β).
    public func entropy() throws -> Tensor {
        let s = try alpha + beta
        return try logBetaOp(alpha, beta) - (alpha - 1) * digammaOp(alpha) - (beta - 1) * digammaOp(beta) + (s - 2) * digammaOp(s)
    }

    /// I_x(α, β).
    public func cdf(_ x: Tensor) throws -> Tensor {
        try mapDoubles([x, alpha, beta], "Beta.cdf") { v in
            v[0] <= 0 ? 0 : (v[0] >= 1 ? 1 : regularizedIncompleteBeta(v[1], v[2], x: v[0]))
        }
    }

    public func quantile(_ p: Tensor) throws -> Tensor {
        try mapDoubles([p, alpha, beta], "Beta.quantile") { v in
            try checkProbability(v[0], "Beta.quantile")
            return try inverseRegularizedIncompleteBeta(v[1], v[2], p: v[0])
        }
    }
}
