// Student's t and the standard normal distribution: CDFs, two-sided tail
// probabilities and quantiles (inverse CDFs). The scalar definitions: CohortProbability's
// tensor `Normal` and `StudentT` call these for their CDFs and quantiles.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Student's t distribution with `degreesOfFreedom` ν > 0 (ν need not be an integer, as in Welch's test).
public struct StudentT: Sendable, Equatable {
    /// The degrees of freedom ν, finite and positive.
    public let degreesOfFreedom: Double

    /// A t distribution with ν = `degreesOfFreedom`; throws unless ν is finite and positive.
    public init(degreesOfFreedom: Double) throws {
        guard degreesOfFreedom.isFinite, degreesOfFreedom > 0 else {
            throw StatsError.invalidArgument("StudentT: degrees of freedom must be finite and > 0, got \(degreesOfFreedom)")
        }
        self.degreesOfFreedom = degreesOfFreedom
    }

    /// P(T ≤ t). Exact to roughly 1e-14 via the regularized incomplete beta function; NaN for NaN.
    public func cdf(_ t: Double) -> Double {
        if t.isNaN { return .nan }
        let tail = upperTail(abs(t))
        return t < 0 ? tail : 1 - tail
    }

    /// P(|T| ≥ |t|), the two-sided p-value of an observed statistic t; NaN for NaN.
    public func twoSidedPValue(_ t: Double) -> Double {
        if t.isNaN { return .nan }
        return Swift.min(1, 2 * upperTail(abs(t)))
    }

    /// The density of T at t.
    public func pdf(_ t: Double) -> Double {
        let v = degreesOfFreedom
        // 1 / (√ν · B(ν/2, ½)) · (1 + t²/ν)^(−(ν+1)/2)
        return exp(-0.5 * log(v) - logBeta(v / 2, 0.5) - (v + 1) / 2 * log1p(t * t / v))
    }

    /// The t with P(T ≤ t) = `p`; −∞ at p = 0 and +∞ at p = 1. Throws unless p is in [0, 1].
    /// Safeguarded Newton iteration on the tail probability, converged to 1e-12 relative (far inside 1e-10).
    public func quantile(_ p: Double) throws -> Double {
        try validateProbability(p, "StudentT.quantile")
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        if p == 0.5 { return 0 }
        // Solve upperTail(t) = q for t ≥ 0 with q the smaller tail, so tiny p keeps full precision.
        let q = Swift.min(p, 1 - p)
        var lo = 0.0, hi = 1.0
        while upperTail(hi) > q { lo = hi; hi *= 2 }   // upperTail decreases in t; bracket the root
        var t = (lo + hi) / 2
        for _ in 0..<300 {
            let residual = upperTail(t) - q        // > 0: t too small
            if residual == 0 { break }
            if residual > 0 { lo = t } else { hi = t }
            let density = pdf(t)
            var next = density > 0 ? t + residual / density : .nan
            if !(next > lo && next < hi) { next = (lo + hi) / 2 }   // fall back to bisection
            let converged = abs(next - t) <= 1e-12 * Swift.max(1, abs(t)) || hi - lo <= 1e-15 * Swift.max(1, hi)
            t = next
            if converged { break }
        }
        return p < 0.5 ? -t : t
    }

    /// P(T ≥ t) for t ≥ 0: ½ · I_x(ν/2, ½) with x = ν / (ν + t²).
    private func upperTail(_ t: Double) -> Double {
        if t == .infinity { return 0 }
        let v = degreesOfFreedom, denom = v + t * t
        return 0.5 * regularizedIncompleteBeta(v / 2, 0.5, x: v / denom, y: t * t / denom)
    }
}

/// The standard normal distribution N(0, 1).
public enum Normal {
    /// P(Z ≤ z) = ½ · erfc(−z / √2); NaN for NaN.
    public static func cdf(_ z: Double) -> Double { 0.5 * erfc(-z / 2.0.squareRoot()) }

    /// P(|Z| ≥ |z|), the two-sided p-value of an observed z statistic.
    public static func twoSidedPValue(_ z: Double) -> Double { erfc(abs(z) / 2.0.squareRoot()) }

    /// The z with P(Z ≤ z) = `p`; −∞ at p = 0 and +∞ at p = 1. Throws unless p is in [0, 1].
    /// Acklam's rational approximation (relative error 1.15e-9) refined by one Halley step on `cdf`.
    public static func quantile(_ p: Double) throws -> Double {
        try validateProbability(p, "Normal.quantile")
        if p == 0 { return -.infinity }
        if p == 1 { return .infinity }
        // Work in the lower half and mirror, so the refinement below sees a small, exact tail probability.
        if p > 0.5 { return -lowerHalfQuantile(1 - p) }
        return lowerHalfQuantile(p)
    }

    /// Quantile for 0 < p ≤ 0.5.
    private static func lowerHalfQuantile(_ p: Double) -> Double {
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                 -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        var x: Double
        if p < 0.02425 {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        }
        // Halley step: e = Φ(x) − p, u = e / φ(x), x ← x − u / (1 + x·u/2).
        let e = cdf(x) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        if u.isFinite { x -= u / (1 + x * u / 2) }   // φ(x) underflows only for p below ~1e-320
        return x
    }
}
