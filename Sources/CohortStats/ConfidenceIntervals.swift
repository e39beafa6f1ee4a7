// Confidence intervals for the centre of a sample of repeated measurements:
// Student's t for the mean, and a seeded percentile bootstrap for any statistic.
import CohortCore

/// A point estimate with a two-sided confidence interval [`lower`, `upper`] at confidence `level`.
public struct ConfidenceInterval: Sendable, Equatable {
    /// The statistic on the full sample (the mean for `tConfidenceInterval`).
    public var estimate: Double
    /// The lower end of the interval.
    public var lower: Double
    /// The upper end of the interval.
    public var upper: Double
    /// The confidence level, e.g. 0.95.
    public var level: Double

    /// An interval from its parts.
    public init(estimate: Double, lower: Double, upper: Double, level: Double) {
        self.estimate = estimate; self.lower = lower; self.upper = upper; self.level = level
    }

    /// `upper − lower`.
    public var width: Double { upper - lower }

    /// The interval with both ends moved into `range`, the values the statistic can take
    /// (e.g. [0, 1] for an accuracy: a t-interval of 0.98 ± 0.06 becomes [0.92, 1]); the
    /// estimate is kept. A symmetric interval can leave a bounded range near its edge.
    public func clamped(to range: ClosedRange<Double>) -> ConfidenceInterval {
        ConfidenceInterval(estimate: estimate, lower: Swift.min(Swift.max(lower, range.lowerBound), range.upperBound),
                           upper: Swift.max(Swift.min(upper, range.upperBound), range.lowerBound), level: level)
    }
}

/// The Student-t interval for the mean: mean ± t₍₁₊level₎⸝₂,ₙ₋₁ · s / √n. Needs at least two samples.
public func tConfidenceInterval(_ samples: [Double], level: Double = 0.95) throws -> ConfidenceInterval {
    try validate(samples, "tConfidenceInterval", minCount: 2)
    try validateOpenUnit(level, "tConfidenceInterval", name: "level")
    let n = Double(samples.count)
    let m = try mean(samples), s = try standardDeviation(samples)
    let t = try StudentT(degreesOfFreedom: n - 1).quantile((1 + level) / 2)
    let half = t * s / n.squareRoot()
    return ConfidenceInterval(estimate: m, lower: m - half, upper: m + half, level: level)
}

/// The percentile bootstrap interval for `statistic` (the median by default): draw `resamples`
/// resamples of the same size with replacement from a `SplitMix64(seed:)` generator, and take the
/// (1 − level)/2 and (1 + level)/2 quantiles (numpy-linear) of the resampled statistics.
/// The same inputs and seed always give the same interval.
public func bootstrapConfidenceInterval(
    _ samples: [Double], level: Double = 0.95,
    statistic: ([Double]) throws -> Double = { try median($0) },
    resamples: Int = 10_000, seed: UInt64 = 0
) throws -> ConfidenceInterval {
    try validate(samples, "bootstrapConfidenceInterval")
    try validateOpenUnit(level, "bootstrapConfidenceInterval", name: "level")
    guard resamples > 0 else {
        throw StatsError.invalidArgument("bootstrapConfidenceInterval: resamples must be > 0, got \(resamples)")
    }
    var rng = SplitMix64(seed: seed)
    var buffer = samples, statistics = [Double]()
    statistics.reserveCapacity(resamples)
    for _ in 0..<resamples {
        for i in buffer.indices { buffer[i] = samples[rng.nextIndex(below: samples.count)] }
        let value = try statistic(buffer)
        guard value.isFinite else {
            throw StatsError.invalidArgument("bootstrapConfidenceInterval: statistic returned \(value) on a resample")
        }
        statistics.append(value)
    }
    statistics.sort()
    let alpha = 1 - level
    return ConfidenceInterval(estimate: try statistic(samples), lower: sortedQuantile(statistics, alpha / 2),
                              upper: sortedQuantile(statistics, 1 - alpha / 2), level: level)
}
