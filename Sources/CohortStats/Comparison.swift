// Baseline-versus-candidate comparison of two sets of timings, with a
// deliberately conservative verdict.

/// Compares candidate timings B against baseline timings A, where smaller is better (durations).
///
/// The verdict is `.faster` or `.slower` only when BOTH Welch's t-test and the Mann–Whitney U test give
/// p < `alpha`; otherwise `.noDifference`. Requiring both (parametric and rank-based) to agree keeps
/// false alarms from outliers or skew down, at the cost of some power. The direction comes from the medians.
public struct Comparison: Sendable, Equatable {
    /// The outcome of a comparison.
    public enum Verdict: Sendable, Equatable {
        /// B's median is lower and both tests reject equality.
        case faster
        /// B's median is higher and both tests reject equality.
        case slower
        /// At least one test does not reject equality at `alpha` (or the medians are equal).
        case noDifference
    }

    /// The median of the baseline samples A.
    public var baselineMedian: Double
    /// The median of the candidate samples B.
    public var candidateMedian: Double
    /// (median(B) − median(A)) / |median(A)|: −0.1 means B is 10 % faster.
    public var relativeChange: Double
    /// The two-sided p-value of Welch's t-test.
    public var welchPValue: Double
    /// The two-sided p-value of the Mann–Whitney U test.
    public var mannWhitneyPValue: Double
    /// The significance level the verdict used.
    public var alpha: Double
    /// `.faster`, `.slower` or `.noDifference` under the both-tests rule.
    public var verdict: Verdict

    /// Compares `candidate` (B) with `baseline` (A) at significance level `alpha` (in (0, 1), default 0.05).
    /// Each sample needs at least two finite values, and the baseline median must be non-zero.
    public init(baseline: [Double], candidate: [Double], alpha: Double = 0.05) throws {
        try validateOpenUnit(alpha, "Comparison", name: "alpha")
        try validate(baseline, "Comparison (baseline)", minCount: 2)
        try validate(candidate, "Comparison (candidate)", minCount: 2)
        baselineMedian = try median(baseline)
        candidateMedian = try median(candidate)
        guard baselineMedian != 0 else { throw StatsError.invalidArgument("Comparison: the baseline median is zero") }
        relativeChange = (candidateMedian - baselineMedian) / abs(baselineMedian)
        welchPValue = try welchTTest(baseline, candidate).pValue
        mannWhitneyPValue = try mannWhitneyU(baseline, candidate).pValue
        self.alpha = alpha
        if welchPValue < alpha && mannWhitneyPValue < alpha && candidateMedian != baselineMedian {
            verdict = candidateMedian < baselineMedian ? .faster : .slower
        } else {
            verdict = .noDifference
        }
    }
}
