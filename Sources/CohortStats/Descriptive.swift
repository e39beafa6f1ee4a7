// Summaries of a sample of repeated measurements. All reject empty input and
// NaN/infinite values with a `StatsError`.

/// The arithmetic mean of `samples`.
public func mean(_ samples: [Double]) throws -> Double {
    try validate(samples, "mean")
    return samples.reduce(0, +) / Double(samples.count)
}

/// The sample variance of `samples` (Bessel-corrected, dividing by n − 1); needs at least two samples.
public func variance(_ samples: [Double]) throws -> Double { try sampleVariance(samples, "variance") }

/// The sample standard deviation of `samples` (n − 1 denominator); needs at least two samples.
public func standardDeviation(_ samples: [Double]) throws -> Double {
    try sampleVariance(samples, "standardDeviation").squareRoot()
}

/// Bessel-corrected variance, errors reported as coming from `function`.
func sampleVariance(_ samples: [Double], _ function: String) throws -> Double {
    try validate(samples, function, minCount: 2)
    let m = samples.reduce(0, +) / Double(samples.count)
    // Two-pass with the compensation term, which removes most rounding error in `m`.
    var sumSq = 0.0, sum = 0.0
    for x in samples { let d = x - m; sumSq += d * d; sum += d }
    return (sumSq - sum * sum / Double(samples.count)) / Double(samples.count - 1)
}

/// The median of `samples`: the middle value, or the mean of the two middle values when the count is even.
public func median(_ samples: [Double]) throws -> Double {
    try validate(samples, "median")
    let s = samples.sorted(), n = s.count
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
}

/// The `p`-quantile of `samples`, `p` in [0, 1], by linear interpolation between order statistics
/// (numpy's default `method="linear"`, Hyndman–Fan type 7): position h = (n − 1)·p in the sorted samples.
public func quantile(_ samples: [Double], p: Double) throws -> Double {
    try validate(samples, "quantile")
    try validateProbability(p, "quantile")
    return sortedQuantile(samples.sorted(), p)
}

/// The smallest of `samples`.
public func minimum(_ samples: [Double]) throws -> Double {
    try validate(samples, "minimum")
    return samples.min()!
}

/// The largest of `samples`.
public func maximum(_ samples: [Double]) throws -> Double {
    try validate(samples, "maximum")
    return samples.max()!
}

/// Type-7 quantile of already sorted, validated, non-empty samples.
func sortedQuantile(_ s: [Double], _ p: Double) -> Double {
    let h = Double(s.count - 1) * p
    let lo = Int(h.rounded(.down)), hi = Swift.min(lo + 1, s.count - 1)
    return s[lo] + (h - Double(lo)) * (s[hi] - s[lo])
}

