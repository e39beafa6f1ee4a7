// One-sample, paired and pooled two-sample t-tests, z-tests for means and
// proportions, each with a one- or two-sided alternative. Degenerate data (zero
// variance, too few samples) is a thrown `StatsError`, never a NaN statistic.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The alternative hypothesis a p-value is computed for.
public enum Alternative: Sendable, Equatable {
    /// The parameter differs from the null value: P(|T| ≥ |t|).
    case twoSided
    /// The parameter is below the null value: P(T ≤ t).
    case less
    /// The parameter is above the null value: P(T ≥ t).
    case greater
}

/// The outcome of a test whose statistic has a t, normal or χ² null distribution.
public struct TestResult: Sendable, Equatable {
    /// The test statistic (t, z or χ²).
    public var statistic: Double
    /// The degrees of freedom of the null distribution; nil for z-tests.
    public var degreesOfFreedom: Double?
    /// The p-value under `alternative`.
    public var pValue: Double
    /// The alternative the p-value is for (χ² tests are always `.greater`).
    public var alternative: Alternative

    /// A result from its parts.
    public init(statistic: Double, degreesOfFreedom: Double?, pValue: Double, alternative: Alternative) {
        self.statistic = statistic; self.degreesOfFreedom = degreesOfFreedom
        self.pValue = pValue; self.alternative = alternative
    }
}

/// The p-value of t under Student's t with `df` degrees of freedom; tails are computed directly.
func tPValue(_ t: Double, df: Double, _ alternative: Alternative) throws -> Double {
    let dist = try StudentT(degreesOfFreedom: df)
    switch alternative {
    case .twoSided: return dist.twoSidedPValue(t)
    case .less: return dist.cdf(t)
    case .greater: return dist.cdf(-t)
    }
}

/// The p-value of z under N(0, 1); tails are computed directly (erfc), so they reach ~1e-300.
func zPValue(_ z: Double, _ alternative: Alternative) -> Double {
    switch alternative {
    case .twoSided: return Normal.twoSidedPValue(z)
    case .less: return Normal.cdf(z)
    case .greater: return Normal.cdf(-z)
    }
}

/// One-sample t-test of mean(`samples`) = `mean` (scipy's `ttest_1samp`); t = (x̄ − μ₀)/(s/√n), ν = n − 1.
/// Throws for fewer than two samples or zero variance.
public func oneSampleTTest(_ samples: [Double], mean mu0: Double = 0, alternative: Alternative = .twoSided) throws -> TestResult {
    try oneSampleT(samples, mu0, alternative, "oneSampleTTest")
}

/// Paired t-test of mean(a − b) = 0 (scipy's `ttest_rel`): a one-sample t-test on the differences.
/// Throws unless the samples have the same length (≥ 2) and the differences vary.
public func pairedTTest(_ a: [Double], _ b: [Double], alternative: Alternative = .twoSided) throws -> TestResult {
    guard a.count == b.count else {
        throw StatsError.invalidArgument("pairedTTest: the samples must pair up, got \(a.count) and \(b.count) values")
    }
    try validate(a, "pairedTTest (first sample)", minCount: 2)
    try validate(b, "pairedTTest (second sample)", minCount: 2)
    return try oneSampleT(zip(a, b).map { $0 - $1 }, 0, alternative, "pairedTTest")
}

/// Student's two-sample t-test assuming equal variances (scipy's `ttest_ind(equal_var=True)`):
/// t = (x̄ₐ − x̄ᵦ) / (sₚ √(1/nₐ + 1/nᵦ)) with the pooled variance sₚ², ν = nₐ + nᵦ − 2.
/// Throws for fewer than three values in all or a pooled variance of zero.
public func pooledTTest(_ a: [Double], _ b: [Double], alternative: Alternative = .twoSided) throws -> TestResult {
    try validate(a, "pooledTTest (first sample)")
    try validate(b, "pooledTTest (second sample)")
    guard a.count + b.count >= 3 else { throw StatsError.tooFew("pooledTTest", needed: 3, got: a.count + b.count) }
    let na = Double(a.count), nb = Double(b.count)
    let ssa = a.count > 1 ? try variance(a) * (na - 1) : 0, ssb = b.count > 1 ? try variance(b) * (nb - 1) : 0
    let df = na + nb - 2, pooled = (ssa + ssb) / df
    guard pooled > 0 else { throw StatsError.degenerate("pooledTTest: both samples have zero variance, so t is undefined") }
    let t = (try mean(a) - mean(b)) / (pooled * (1 / na + 1 / nb)).squareRoot()
    return TestResult(statistic: t, degreesOfFreedom: df, pValue: try tPValue(t, df: df, alternative), alternative: alternative)
}

/// Welch's unequal-variance t-test with a chosen alternative (see `welchTTest(_:_:)` for the two-sided form).
/// Throws when both samples have zero variance.
public func welchTTest(_ a: [Double], _ b: [Double], alternative: Alternative) throws -> TestResult {
    let r = try welchTTest(a, b)
    guard r.t.isFinite, try variance(a) + variance(b) > 0 else {
        throw StatsError.degenerate("welchTTest: both samples have zero variance, so t is undefined")
    }
    return TestResult(statistic: r.t, degreesOfFreedom: r.degreesOfFreedom,
                      pValue: try tPValue(r.t, df: r.degreesOfFreedom, alternative), alternative: alternative)
}

/// One-sample z-test of mean(`samples`) = `mean` with known population standard deviation `sigma` > 0:
/// z = (x̄ − μ₀) / (σ/√n).
public func zTest(_ samples: [Double], mean mu0: Double = 0, sigma: Double, alternative: Alternative = .twoSided) throws -> TestResult {
    try validate(samples, "zTest")
    try validatePositive(sigma, "zTest", name: "sigma")
    let z = (try mean(samples) - mu0) / (sigma / Double(samples.count).squareRoot())
    return TestResult(statistic: z, degreesOfFreedom: nil, pValue: zPValue(z, alternative), alternative: alternative)
}

/// Two-sample z-test of equal means with known standard deviations σₐ, σᵦ > 0:
/// z = (x̄ₐ − x̄ᵦ) / √(σₐ²/nₐ + σᵦ²/nᵦ).
public func twoSampleZTest(_ a: [Double], _ b: [Double], sigmaA: Double, sigmaB: Double,
                           alternative: Alternative = .twoSided) throws -> TestResult {
    try validate(a, "twoSampleZTest (first sample)")
    try validate(b, "twoSampleZTest (second sample)")
    try validatePositive(sigmaA, "twoSampleZTest", name: "sigmaA")
    try validatePositive(sigmaB, "twoSampleZTest", name: "sigmaB")
    let se = (sigmaA * sigmaA / Double(a.count) + sigmaB * sigmaB / Double(b.count)).squareRoot()
    let z = (try mean(a) - mean(b)) / se
    return TestResult(statistic: z, degreesOfFreedom: nil, pValue: zPValue(z, alternative), alternative: alternative)
}

/// One-proportion z-test of p = `p0` from `successes` out of `trials`: z = (p̂ − p₀) / √(p₀(1 − p₀)/n)
/// (the score test). Throws unless 0 ≤ successes ≤ trials, trials > 0 and p₀ is in (0, 1).
public func proportionZTest(successes: Int, trials: Int, p0: Double, alternative: Alternative = .twoSided) throws -> TestResult {
    try validateCounts(successes, trials, "proportionZTest")
    try validateOpenUnit(p0, "proportionZTest", name: "p0")
    let n = Double(trials), z = (Double(successes) / n - p0) / (p0 * (1 - p0) / n).squareRoot()
    return TestResult(statistic: z, degreesOfFreedom: nil, pValue: zPValue(z, alternative), alternative: alternative)
}

/// Two-proportion z-test of p₁ = p₂ with the pooled proportion p̂ = (x₁ + x₂)/(n₁ + n₂):
/// z = (p̂₁ − p̂₂) / √(p̂(1 − p̂)(1/n₁ + 1/n₂)). Throws when p̂ is 0 or 1 (no variation to test).
public func twoProportionZTest(successes1: Int, trials1: Int, successes2: Int, trials2: Int,
                               alternative: Alternative = .twoSided) throws -> TestResult {
    try validateCounts(successes1, trials1, "twoProportionZTest (first sample)")
    try validateCounts(successes2, trials2, "twoProportionZTest (second sample)")
    let n1 = Double(trials1), n2 = Double(trials2)
    let pooled = Double(successes1 + successes2) / (n1 + n2)
    guard pooled > 0, pooled < 1 else {
        throw StatsError.degenerate("twoProportionZTest: the pooled proportion is \(pooled), so z is undefined")
    }
    let z = (Double(successes1) / n1 - Double(successes2) / n2) / (pooled * (1 - pooled) * (1 / n1 + 1 / n2)).squareRoot()
    return TestResult(statistic: z, degreesOfFreedom: nil, pValue: zPValue(z, alternative), alternative: alternative)
}

/// The one-sample t-test, errors reported as coming from `function`.
func oneSampleT(_ x: [Double], _ mu0: Double, _ alternative: Alternative, _ function: String) throws -> TestResult {
    try validate(x, function, minCount: 2)
    let s2 = try sampleVariance(x, function)
    guard s2 > 0 else { throw StatsError.degenerate("\(function): the sample has zero variance, so t is undefined") }
    let n = Double(x.count), df = n - 1
    let t = (try mean(x) - mu0) / (s2 / n).squareRoot()
    return TestResult(statistic: t, degreesOfFreedom: df, pValue: try tPValue(t, df: df, alternative), alternative: alternative)
}

/// Throws unless `value` is finite and > 0.
func validatePositive(_ value: Double, _ function: String, name: String) throws {
    guard value.isFinite, value > 0 else { throw StatsError.invalidArgument("\(function): \(name) must be finite and > 0, got \(value)") }
}

/// Throws unless 0 ≤ successes ≤ trials and trials > 0.
func validateCounts(_ successes: Int, _ trials: Int, _ function: String) throws {
    guard trials > 0, successes >= 0, successes <= trials else {
        throw StatsError.invalidArgument("\(function): need 0 <= successes <= trials and trials > 0, got \(successes) of \(trials)")
    }
}
