// Closed-form Bayesian updates for conjugate pairs: Beta prior with binomial data,
// Normal prior on a mean with known noise variance, Gamma prior on a Poisson rate.
// Each posterior is again a prior of the same kind, so updates chain.
import CohortCore
import CohortStats

/// A Beta(α, β) belief about a success probability, updated by binomial counts.
public struct BetaBinomialModel: Sendable, Equatable {
    /// The shapes α, β > 0.
    public let alpha: Double, beta: Double

    /// A Beta(`alpha`, `beta`) prior; throws unless both are finite and > 0.
    public init(alpha: Double, beta: Double) throws {
        guard alpha.isFinite, beta.isFinite, alpha > 0, beta > 0 else {
            throw CohortError.invalidArgument("BetaBinomialModel: alpha and beta must be finite and > 0, got \(alpha), \(beta)")
        }
        self.alpha = alpha; self.beta = beta
    }

    /// The posterior after `successes` in `trials`: Beta(α + k, β + n − k). Throws unless 0 ≤ k ≤ n.
    public func posterior(successes: Int, trials: Int) throws -> BetaBinomialModel {
        guard trials >= 0, successes >= 0, successes <= trials else {
            throw CohortError.invalidArgument("BetaBinomialModel.posterior: need 0 <= successes <= trials, got \(successes) of \(trials)")
        }
        return try BetaBinomialModel(alpha: alpha + Double(successes), beta: beta + Double(trials - successes))
    }

    /// α / (α + β).
    public var mean: Double { alpha / (alpha + beta) }
    /// αβ / ((α + β)²(α + β + 1)).
    public var variance: Double { let s = alpha + beta; return alpha * beta / (s * s * (s + 1)) }

    /// The equal-tailed credible interval at `level` (in (0, 1)).
    public func credibleInterval(level: Double = 0.95) throws -> (lower: Double, upper: Double) {
        guard level > 0, level < 1 else { throw CohortError.invalidArgument("credibleInterval: level must be in (0, 1), got \(level)") }
        return (try inverseRegularizedIncompleteBeta(alpha, beta, p: (1 - level) / 2),
                try inverseRegularizedIncompleteBeta(alpha, beta, p: (1 + level) / 2))
    }
}

/// A Normal(μ₀, τ₀²) belief about the mean of normal data with known noise variance σ².
public struct NormalKnownVarianceModel: Sendable, Equatable {
    /// The prior (or posterior) mean and variance of the unknown mean.
    public let mean: Double, variance: Double
    /// The known variance σ² of each observation.
    public let noiseVariance: Double

    /// A N(`mean`, `variance`) prior for data with noise variance `noiseVariance`; variances must be finite and > 0.
    public init(mean: Double, variance: Double, noiseVariance: Double) throws {
        guard mean.isFinite, variance.isFinite, variance > 0, noiseVariance.isFinite, noiseVariance > 0 else {
            throw CohortError.invalidArgument("NormalKnownVarianceModel: need a finite mean and variances > 0, got mean \(mean), variance \(variance), noise variance \(noiseVariance)")
        }
        self.mean = mean; self.variance = variance; self.noiseVariance = noiseVariance
    }

    /// The posterior after `observations`: precision 1/τ₀² + n/σ², mean (μ₀/τ₀² + Σx/σ²) / precision.
    public func posterior(observations: [Double]) throws -> NormalKnownVarianceModel {
        if let i = observations.firstIndex(where: { !$0.isFinite }) {
            throw CohortError.invalidArgument("NormalKnownVarianceModel.posterior: observation \(i) is \(observations[i])")
        }
        let precision = 1 / variance + Double(observations.count) / noiseVariance
        let m = (mean / variance + observations.reduce(0, +) / noiseVariance) / precision
        return try NormalKnownVarianceModel(mean: m, variance: 1 / precision, noiseVariance: noiseVariance)
    }
}

/// A Gamma(shape a, rate b) belief about a Poisson rate.
public struct GammaPoissonModel: Sendable, Equatable {
    /// The shape a and rate b, both > 0.
    public let shape: Double, rate: Double

    /// A Gamma(`shape`, `rate`) prior; both must be finite and > 0.
    public init(shape: Double, rate: Double) throws {
        guard shape.isFinite, rate.isFinite, shape > 0, rate > 0 else {
            throw CohortError.invalidArgument("GammaPoissonModel: shape and rate must be finite and > 0, got \(shape), \(rate)")
        }
        self.shape = shape; self.rate = rate
    }

    /// The posterior after observing `counts` (each ≥ 0): Gamma(a + Σk, b + n).
    public func posterior(counts: [Int]) throws -> GammaPoissonModel {
        if let i = counts.firstIndex(where: { $0 < 0 }) {
            throw CohortError.invalidArgument("GammaPoissonModel.posterior: count \(i) is negative (\(counts[i]))")
        }
        return try GammaPoissonModel(shape: shape + Double(counts.reduce(0, +)), rate: rate + Double(counts.count))
    }

    /// a / b.
    public var mean: Double { shape / rate }
    /// a / b².
    public var variance: Double { shape / (rate * rate) }
}
