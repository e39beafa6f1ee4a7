// From runs to numbers a person can trust: per configuration the median
// throughput with a t-based 95 % interval over rounds and a bootstrap interval of
// the median, a noise flag, speedup against the 1-rank run of the same knob
// values, and efficiency computed round by round (each round's N-rank run against
// the same round's 1-rank run, so drift between rounds cancels) with its interval.
import CohortStats
import Foundation

/// What the report says about one configuration.
public struct ConfigurationSummary: Sendable {
    public var configuration: ScaleConfiguration
    /// Samples/s of the successful rounds, in round order.
    public var throughput: [Double]
    /// Tokens/s medians for sequence models, else nil.
    public var tokensPerSecond: Double?
    public var failed: Int
    public var median: Double
    /// t-based 95 % interval of the mean (nil with fewer than 2 rounds).
    public var meanInterval: ConfidenceInterval?
    /// Percentile-bootstrap 95 % interval of the median (nil with fewer than 2 rounds).
    public var medianInterval: ConfidenceInterval?
    /// Coefficient of variation over rounds (nil with fewer than 2 rounds).
    public var variation: Double?
    /// Repeats disagree by more than the noise threshold (5 % coefficient of variation).
    public var noisy: Bool
    /// Median throughput ÷ the 1-rank median of the same knob values.
    public var speedup: Double?
    /// Round-paired throughput ÷ (ranks × 1-rank throughput): median and t-interval.
    public var efficiency: Double?
    public var efficiencyInterval: ConfidenceInterval?
    /// Seconds per step by phase: medians over rounds.
    public var phases: [String: Double]
    public var gradientBytes: Int
    public var transport: String
}

public enum ScaleAnalysis {
    /// Summaries in the plan's configuration order (configurations without a successful run are skipped).
    public static func summarize(_ plan: ScalePlan, _ runs: [ScaleRun]) -> [ConfigurationSummary] {
        var byConfig: [ScaleConfiguration: [ScaleRun]] = [:]
        for r in runs { byConfig[r.configuration, default: []].append(r) }
        func ok(_ c: ScaleConfiguration) -> [ScaleRun] { (byConfig[c] ?? []).filter(\.ok).sorted { $0.round < $1.round } }
        var out: [ConfigurationSummary] = []
        for c in plan.configurations {
            let good = ok(c)
            let failed = (byConfig[c] ?? []).count - good.count
            guard !good.isEmpty else { continue }
            let thr = good.map(\.samplesPerSecond)
            let med = (try? CohortStats.median(thr)) ?? 0
            let several = thr.count >= 2
            var s = ConfigurationSummary(
                configuration: c, throughput: thr,
                tokensPerSecond: good.compactMap(\.tokensPerSecond).isEmpty ? nil : try? CohortStats.median(good.compactMap(\.tokensPerSecond)),
                failed: failed, median: med,
                meanInterval: several ? try? tConfidenceInterval(thr) : nil,
                medianInterval: several ? try? bootstrapConfidenceInterval(thr, resamples: 2000) : nil,
                variation: several ? try? coefficientOfVariation(thr) : nil,
                noisy: several ? ((try? isNoisy(thr)) ?? false) : false,
                speedup: nil, efficiency: nil, efficiencyInterval: nil,
                phases: [:], gradientBytes: good[0].gradientBytes, transport: good[0].transport)
            for name in ScaleStore.phaseNames {
                let values = good.compactMap { $0.phases[name] }
                if !values.isEmpty { s.phases[name] = try? CohortStats.median(values) }
            }
            let base = ok(c.with(ranks: 1))
            if !base.isEmpty, let baseMedian = try? CohortStats.median(base.map(\.samplesPerSecond)), baseMedian > 0 {
                s.speedup = med / baseMedian
                let baseByRound = Dictionary(base.map { ($0.round, $0.samplesPerSecond) }, uniquingKeysWith: { a, _ in a })
                let paired = good.compactMap { r in baseByRound[r.round].map { r.samplesPerSecond / (Double(c.ranks) * $0) } }
                s.efficiency = paired.isEmpty ? med / (Double(c.ranks) * baseMedian) : try? CohortStats.median(paired)
                s.efficiencyInterval = paired.count >= 2 ? try? tConfidenceInterval(paired) : nil
            }
            out.append(s)
        }
        return out
    }
}
