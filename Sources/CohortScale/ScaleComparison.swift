// `cohort scale compare`: did a change make a difference? Per configuration the two
// sweeps have in common, the rounds' time per sample is compared with Welch's
// t-test and the Mann–Whitney U test; the verdict says faster or slower only when
// both reject equality (CohortStats.Comparison), so one outlier round cannot raise
// an alarm. With the exact Mann–Whitney test, 3 rounds a side can never reach
// p < 0.05: a verdict needs at least 4 rounds on each side.
import CohortCore
import CohortStats

/// One configuration compared between a baseline and a candidate sweep.
public struct ConfigurationComparison: Sendable {
    public var label: String
    public var baselineRounds: Int, candidateRounds: Int
    /// Median samples/s of each side.
    public var baselineMedian: Double, candidateMedian: Double
    /// Candidate ÷ baseline median throughput − 1 (−0.2: 20 % slower).
    public var throughputChange: Double
    /// nil when either side has fewer than 2 successful rounds.
    public var comparison: Comparison?

    /// `faster`, `slower`, `no difference` or `too few rounds`.
    public var verdict: String {
        guard let comparison else { return "too few rounds (need ≥ 2 a side, ≥ 4 to detect a change)" }
        switch comparison.verdict {
        case .faster: return "faster"
        case .slower: return "slower"
        case .noDifference: return "no difference"
        }
    }
}

public enum ScaleComparison {
    /// Compares every configuration with successful runs in both folders.
    /// - Throws: `CohortError.badFile` when the sweeps have no configuration in common.
    public static func compare(baseline: ScaleStore, candidate: ScaleStore, alpha: Double = 0.05) throws -> [ConfigurationComparison] {
        let a = try baseline.loadRuns().filter(\.ok), b = try candidate.loadRuns().filter(\.ok)
        let labels = Set(a.map(\.configuration.label)).intersection(b.map(\.configuration.label)).sorted()
        guard !labels.isEmpty else {
            throw CohortError.badFile(path: candidate.directory, "has no configuration with successful runs in common with \(baseline.directory)")
        }
        return try labels.map { label in
            let x = a.filter { $0.configuration.label == label }.map(\.samplesPerSecond)
            let y = b.filter { $0.configuration.label == label }.map(\.samplesPerSecond)
            let mx = try median(x), my = try median(y)
            // Durations (smaller is better), as Comparison expects: seconds per sample.
            let c = x.count >= 2 && y.count >= 2 ? try Comparison(baseline: x.map { 1 / $0 }, candidate: y.map { 1 / $0 }, alpha: alpha) : nil
            return ConfigurationComparison(label: label, baselineRounds: x.count, candidateRounds: y.count, baselineMedian: mx,
                                           candidateMedian: my, throughputChange: my / mx - 1, comparison: c)
        }
    }
}
