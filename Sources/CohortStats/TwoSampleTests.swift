// Two-sample tests for "did B change relative to A": Welch's unequal-variance
// t-test on the means and the Mann–Whitney U (Wilcoxon rank-sum) test.

/// The outcome of Welch's two-sample t-test.
public struct WelchTestResult: Sendable, Equatable {
    /// The statistic t = (mean(a) − mean(b)) / √(s²ₐ/nₐ + s²ᵦ/nᵦ).
    public var t: Double
    /// The Welch–Satterthwaite degrees of freedom (generally not an integer).
    public var degreesOfFreedom: Double
    /// The two-sided p-value P(|T| ≥ |t|) under T ~ t(ν).
    public var pValue: Double
}

/// Welch's t-test of equal means without assuming equal variances; each sample needs at least two values.
/// When both samples have zero variance the statistic is degenerate: equal means give t = 0, p = 1, and
/// different means give t = ±∞, p = 0; ν is then reported as nₐ + nᵦ − 2.
public func welchTTest(_ a: [Double], _ b: [Double]) throws -> WelchTestResult {
    try validate(a, "welchTTest (first sample)", minCount: 2)
    try validate(b, "welchTTest (second sample)", minCount: 2)
    let na = Double(a.count), nb = Double(b.count)
    let va = try variance(a) / na, vb = try variance(b) / nb   // squared standard errors
    let diff = try mean(a) - mean(b), se2 = va + vb
    if se2 == 0 {
        let t: Double = diff == 0 ? 0 : (diff > 0 ? .infinity : -.infinity)
        return WelchTestResult(t: t, degreesOfFreedom: na + nb - 2, pValue: diff == 0 ? 1 : 0)
    }
    let t = diff / se2.squareRoot()
    let df = se2 * se2 / (va * va / (na - 1) + vb * vb / (nb - 1))
    return WelchTestResult(t: t, degreesOfFreedom: df, pValue: try StudentT(degreesOfFreedom: df).twoSidedPValue(t))
}

/// The outcome of a Mann–Whitney U test.
public struct MannWhitneyResult: Sendable, Equatable {
    /// How the p-value was computed.
    public enum Method: Sendable, Equatable {
        /// The exact null distribution of U (small samples, no ties).
        case exact
        /// The normal approximation with tie and continuity corrections.
        case normalApproximation
    }
    /// U for the first sample: the number of pairs (aᵢ, bⱼ) with aᵢ > bⱼ, ties counting ½.
    public var u: Double
    /// The two-sided p-value.
    public var pValue: Double
    /// Which null distribution gave `pValue`.
    public var method: Method
}

/// Both samples at most this size, and no ties, selects the exact U distribution.
public let mannWhitneyExactLimit = 10

/// The two-sided Mann–Whitney U test (as `scipy.stats.mannwhitneyu` with `alternative="two-sided"`).
/// Exact when both samples have at most `mannWhitneyExactLimit` values and there are no ties:
/// p = 2·min(P(U ≤ u), P(U ≥ u)), capped at 1. Otherwise the normal approximation with
/// σ² = nₐnᵦ/12 · ((n + 1) − Σ(tₖ³ − tₖ)/(n(n − 1))) and a ½ continuity correction (p = 1 if σ = 0).
public func mannWhitneyU(_ a: [Double], _ b: [Double]) throws -> MannWhitneyResult {
    try validate(a, "mannWhitneyU (first sample)")
    try validate(b, "mannWhitneyU (second sample)")
    let (ranks, tieGroups) = averageRanks(a + b)
    let na = a.count, nb = b.count, n = Double(na + nb)
    let u = ranks[..<na].reduce(0, +) - Double(na * (na + 1)) / 2
    if na <= mannWhitneyExactLimit && nb <= mannWhitneyExactLimit && tieGroups.isEmpty {
        let counts = uDistributionCounts(na, nb), total = counts.reduce(0, +)
        let k = Int(u)
        let below = counts[...k].reduce(0, +), above = counts[k...].reduce(0, +)
        return MannWhitneyResult(u: u, pValue: Swift.min(1, 2 * Swift.min(below, above) / total), method: .exact)
    }
    let mu = Double(na * nb) / 2
    let tieSum = tieGroups.reduce(0.0) { $0 + Double($1 * $1 * $1 - $1) }
    let sigma2 = Double(na * nb) / 12 * ((n + 1) - tieSum / (n * (n - 1)))
    guard sigma2 > 0 else { return MannWhitneyResult(u: u, pValue: 1, method: .normalApproximation) }
    let z = (abs(u - mu) - 0.5) / sigma2.squareRoot()
    return MannWhitneyResult(u: u, pValue: Swift.min(1, Normal.twoSidedPValue(Swift.max(z, 0))),
                             method: .normalApproximation)
}

/// Ranks 1…n of `values` with ties given their average rank, and the sizes of the tie groups (> 1).
func averageRanks(_ values: [Double]) -> (ranks: [Double], tieGroups: [Int]) {
    let order = values.indices.sorted { values[$0] < values[$1] }
    var ranks = [Double](repeating: 0, count: values.count), ties = [Int]()
    var start = 0
    while start < order.count {
        var end = start + 1
        while end < order.count && values[order[end]] == values[order[start]] { end += 1 }
        let rank = Double(start + end + 1) / 2   // mean of ranks start+1 … end
        for i in start..<end { ranks[order[i]] = rank }
        if end - start > 1 { ties.append(end - start) }
        start = end
    }
    return (ranks, ties)
}

/// counts[u] = the number of the C(m + n, m) orderings of m a's and n b's whose U (pairs a > b) is u.
/// Recurrence on the largest value: it is an a (adding n to U) or a b (adding nothing).
func uDistributionCounts(_ m: Int, _ n: Int) -> [Double] {
    // table[i][j] is the distribution for i a's and j b's, indexed by u in 0...i·j.
    var table = [[[Double]]](repeating: [[Double]](repeating: [], count: n + 1), count: m + 1)
    for i in 0...m {
        for j in 0...n {
            if i == 0 || j == 0 { table[i][j] = [1]; continue }
            var counts = [Double](repeating: 0, count: i * j + 1)
            for (u, c) in table[i - 1][j].enumerated() { counts[u + j] += c }
            for (u, c) in table[i][j - 1].enumerated() { counts[u] += c }
            table[i][j] = counts
        }
    }
    return table[m][n]
}
