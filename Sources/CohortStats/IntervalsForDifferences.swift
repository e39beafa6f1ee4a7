// Confidence intervals beyond the one-sample t interval: known-σ z intervals,
// differences of two means (Welch or pooled), paired differences, and the Wilson
// score interval for a binomial proportion.

/// The z interval for the mean with known population standard deviation `sigma`: x̄ ± z₍₁₊level₎⸝₂ · σ/√n.
public func zConfidenceInterval(_ samples: [Double], sigma: Double, level: Double = 0.95) throws -> ConfidenceInterval {
    try validate(samples, "zConfidenceInterval")
    try validatePositive(sigma, "zConfidenceInterval", name: "sigma")
    try validateOpenUnit(level, "zConfidenceInterval", name: "level")
    let m = try mean(samples), half = try Normal.quantile((1 + level) / 2) * sigma / Double(samples.count).squareRoot()
    return ConfidenceInterval(estimate: m, lower: m - half, upper: m + half, level: level)
}

/// The t interval for mean(a) − mean(b): Welch's standard error and degrees of freedom by default,
/// the pooled variance with nₐ + nᵦ − 2 degrees of freedom when `pooled`. Each sample needs two values;
/// throws when the standard error is zero.
public func differenceConfidenceInterval(_ a: [Double], _ b: [Double], level: Double = 0.95,
                                         pooled: Bool = false) throws -> ConfidenceInterval {
    let function = "differenceConfidenceInterval"
    try validate(a, function + " (first sample)", minCount: 2)
    try validate(b, function + " (second sample)", minCount: 2)
    try validateOpenUnit(level, function, name: "level")
    let na = Double(a.count), nb = Double(b.count), va = try variance(a), vb = try variance(b)
    let se: Double, df: Double
    if pooled {
        df = na + nb - 2
        se = (((na - 1) * va + (nb - 1) * vb) / df * (1 / na + 1 / nb)).squareRoot()
    } else {
        let sa = va / na, sb = vb / nb
        se = (sa + sb).squareRoot()
        df = (sa + sb) * (sa + sb) / (sa * sa / (na - 1) + sb * sb / (nb - 1))
    }
    guard se > 0 else { throw StatsError.degenerate("\(function): both samples have zero variance") }
    let d = try mean(a) - mean(b), half = try StudentT(degreesOfFreedom: df).quantile((1 + level) / 2) * se
    return ConfidenceInterval(estimate: d, lower: d - half, upper: d + half, level: level)
}

/// The t interval for the mean of the paired differences a − b. Throws for unequal lengths.
public func pairedConfidenceInterval(_ a: [Double], _ b: [Double], level: Double = 0.95) throws -> ConfidenceInterval {
    guard a.count == b.count else {
        throw StatsError.invalidArgument("pairedConfidenceInterval: the samples must pair up, got \(a.count) and \(b.count) values")
    }
    try validate(a, "pairedConfidenceInterval (first sample)", minCount: 2)
    try validate(b, "pairedConfidenceInterval (second sample)", minCount: 2)
    return try tConfidenceInterval(zip(a, b).map { $0 - $1 }, level: level)
}

/// The Wilson score interval for a proportion from `successes` of `trials` (as scipy's
/// `binomtest(k, n).proportion_ci(method="wilson")`): centre (p̂ + z²/2n)/(1 + z²/n), half-width
/// z/(1 + z²/n) · √(p̂(1 − p̂)/n + z²/4n²). Stays inside [0, 1] and is sensible at 0 or n successes.
public func wilsonInterval(successes: Int, trials: Int, level: Double = 0.95) throws -> ConfidenceInterval {
    try validateCounts(successes, trials, "wilsonInterval")
    try validateOpenUnit(level, "wilsonInterval", name: "level")
    let n = Double(trials), p = Double(successes) / n, z = try Normal.quantile((1 + level) / 2), z2 = z * z
    let denominator = 1 + z2 / n
    let centre = (p + z2 / (2 * n)) / denominator
    let half = z / denominator * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
    return ConfidenceInterval(estimate: p, lower: Swift.max(0, centre - half), upper: Swift.min(1, centre + half), level: level)
}
