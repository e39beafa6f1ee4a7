// The chi-square distribution with k degrees of freedom, for the goodness-of-fit
// and independence tests: CDF, survival function (far-tail p-values) and quantiles,
// all through the regularized incomplete gamma functions with a = k/2.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The χ² distribution with `degreesOfFreedom` k > 0 (k need not be an integer).
public struct ChiSquared: Sendable, Equatable {
    /// The degrees of freedom k, finite and positive.
    public let degreesOfFreedom: Double

    /// A χ² distribution with k = `degreesOfFreedom`; throws unless k is finite and positive.
    public init(degreesOfFreedom: Double) throws {
        guard degreesOfFreedom.isFinite, degreesOfFreedom > 0 else {
            throw StatsError.invalidArgument("ChiSquared: degrees of freedom must be finite and > 0, got \(degreesOfFreedom)")
        }
        self.degreesOfFreedom = degreesOfFreedom
    }

    /// P(X ≤ x) = P(k/2, x/2); 0 for x ≤ 0, NaN for NaN.
    public func cdf(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        return x <= 0 ? 0 : regularizedGammaP(degreesOfFreedom / 2, x / 2)
    }

    /// P(X > x) = Q(k/2, x/2), the p-value of an observed statistic x; computed directly,
    /// so it stays accurate down to ~1e-300. 1 for x ≤ 0, NaN for NaN.
    public func survival(_ x: Double) -> Double {
        if x.isNaN { return .nan }
        return x <= 0 ? 1 : regularizedGammaQ(degreesOfFreedom / 2, x / 2)
    }

    /// The density at x (0 for x < 0).
    public func pdf(_ x: Double) -> Double {
        if x < 0 { return 0 }
        let a = degreesOfFreedom / 2
        if x == 0 { return a < 1 ? .infinity : (a == 1 ? 0.5 : 0) }
        return exp(logGammaPrefactor(a, x / 2)) / x
    }

    /// The x with P(X ≤ x) = `p`; 0 at p = 0 and +∞ at p = 1. Throws unless p is in [0, 1].
    public func quantile(_ p: Double) throws -> Double {
        try validateProbability(p, "ChiSquared.quantile")
        return 2 * (try inverseRegularizedGammaP(degreesOfFreedom / 2, p))
    }

    /// The x with P(X > x) = `q` (precise for tiny q). Throws unless q is in [0, 1].
    public func inverseSurvival(_ q: Double) throws -> Double {
        try validateProbability(q, "ChiSquared.inverseSurvival", name: "q")
        return 2 * (try inverseRegularizedGammaQ(degreesOfFreedom / 2, q))
    }
}
