// Is a set of repeats too noisy to trust? Measures of spread relative to the centre.

/// The coefficient of variation: sample standard deviation divided by |mean|.
/// Needs at least two samples and a non-zero mean.
public func coefficientOfVariation(_ samples: [Double]) throws -> Double {
    try coefficientOfVariation(samples, "coefficientOfVariation")
}

/// The coefficient of variation, errors reported as coming from `function`.
func coefficientOfVariation(_ samples: [Double], _ function: String) throws -> Double {
    let sd = try sampleVariance(samples, function).squareRoot()
    let m = samples.reduce(0, +) / Double(samples.count)
    guard m != 0 else { throw StatsError.invalidArgument("\(function): the mean is zero") }
    return sd / abs(m)
}

/// The relative spread (max − min) / |median|. Needs a non-zero median.
public func relativeSpread(_ samples: [Double]) throws -> Double {
    try validate(samples, "relativeSpread")
    let m = try median(samples)
    guard m != 0 else { throw StatsError.invalidArgument("relativeSpread: the median is zero") }
    return (samples.max()! - samples.min()!) / abs(m)
}

/// True when the repeats are too noisy to compare: their coefficient of variation (sd / |mean|)
/// exceeds `threshold` (default 0.05, i.e. 5 %). Uses the CV, not `relativeSpread`, because the
/// CV does not grow with the number of repeats. Needs at least two samples and a non-zero mean.
public func isNoisy(_ samples: [Double], threshold: Double = 0.05) throws -> Bool {
    guard threshold >= 0, threshold.isFinite else {
        throw StatsError.invalidArgument("isNoisy: threshold must be finite and >= 0, got \(threshold)")
    }
    return try coefficientOfVariation(samples, "isNoisy") > threshold
}
