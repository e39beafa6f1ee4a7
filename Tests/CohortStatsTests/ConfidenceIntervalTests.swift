// The t interval against scipy, and the seeded percentile bootstrap:
// reproducible, a point for a constant sample, narrower with more data.
import Testing
import CohortCore
import CohortStats

@Suite struct ConfidenceIntervalTests {
    static let xs = [9.8, 10.1, 10.0, 10.4, 9.7, 10.2, 9.9, 10.3]

    /// `count` pseudo-random values uniform in [10, 11), fixed by `seed`.
    static func uniformSamples(_ count: Int, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in 10 + Double(rng.next() >> 11) / Double(1 << 53) }
    }

    // scipy: stats.t.interval(level, n - 1, loc=mean, scale=stats.sem(xs)).
    @Test(arguments: [(0.95, 9.845217532771589, 10.254782467228413), (0.90, 9.885924679852558, 10.214075320147444)])
    func tIntervalMatchesScipy(level: Double, lower: Double, upper: Double) throws {
        let ci = try tConfidenceInterval(Self.xs, level: level)
        #expect(close(ci.estimate, 10.05, 1e-12))
        #expect(close(ci.lower, lower, 1e-10))
        #expect(close(ci.upper, upper, 1e-10))
        #expect(ci.level == level)
    }

    @Test func constantSampleGivesAPoint() throws {
        let constant = [Double](repeating: 3.25, count: 12)
        let boot = try bootstrapConfidenceInterval(constant, seed: 7)
        #expect(boot.estimate == 3.25 && boot.lower == 3.25 && boot.upper == 3.25)
        let t = try tConfidenceInterval(constant)
        #expect(t.lower == 3.25 && t.upper == 3.25)
    }

    @Test func bootstrapIsReproducibleAndBracketsTheMedian() throws {
        let xs = Self.uniformSamples(20, seed: 1)
        let a = try bootstrapConfidenceInterval(xs, level: 0.95, seed: 42)
        let b = try bootstrapConfidenceInterval(xs, level: 0.95, seed: 42)
        #expect(a == b)
        #expect(a.estimate == (try median(xs)))
        #expect(a.lower <= a.estimate && a.estimate <= a.upper && a.lower < a.upper)
        // The median's interval ends are order statistics, so compare seeds on the (continuous) mean instead.
        let meanOf: ([Double]) throws -> Double = { try mean($0) }
        let seeded = try bootstrapConfidenceInterval(xs, statistic: meanOf, seed: 42)
        #expect(try bootstrapConfidenceInterval(xs, statistic: meanOf, seed: 43) != seeded)
        // A lower level can only narrow the percentile interval for the same resamples.
        let narrow = try bootstrapConfidenceInterval(xs, level: 0.5, seed: 42)
        #expect(narrow.lower >= a.lower && narrow.upper <= a.upper)
    }

    @Test func widthShrinksWithSampleSize() throws {
        var tWidths = [Double](), bootWidths = [Double]()
        for n in [10, 40, 160] {
            let xs = Self.uniformSamples(n, seed: UInt64(n))
            tWidths.append(try tConfidenceInterval(xs).width)
            bootWidths.append(try bootstrapConfidenceInterval(xs, statistic: { try mean($0) }, resamples: 2_000, seed: 3).width)
        }
        #expect(tWidths[0] > tWidths[1] && tWidths[1] > tWidths[2])
        #expect(bootWidths[0] > bootWidths[1] && bootWidths[1] > bootWidths[2])
        // For the mean of 160 uniform values the bootstrap and t intervals are nearly the same width.
        #expect(abs(bootWidths[2] / tWidths[2] - 1) < 0.1)
    }

    @Test func rejectsBadArguments() {
        #expect(throws: StatsError.empty("bootstrapConfidenceInterval")) { try bootstrapConfidenceInterval([]) }
        #expect(throws: StatsError.tooFew("tConfidenceInterval", needed: 2, got: 1)) { try tConfidenceInterval([1]) }
        #expect(throws: StatsError.self) { try tConfidenceInterval([1, 2], level: 1) }
        #expect(throws: StatsError.self) { try bootstrapConfidenceInterval([1, 2], resamples: 0) }
        #expect(throws: StatsError.nonFinite("tConfidenceInterval", index: 0)) { try tConfidenceInterval([.nan, 2]) }
    }

    /// cohort cv's accuracies 0.90, 0.98, 1.0 over 3 folds: the raw t-interval reaches 1.0914;
    /// clamped to [0, 1] it ends at 1, the estimate and the lower end unchanged.
    @Test func clampingKeepsAnIntervalInsideTheMetricsRange() throws {
        let raw = try tConfidenceInterval([0.90, 0.98, 1.0])
        #expect(close(raw.upper, 1.091448212159512, 1e-9))
        let ci = raw.clamped(to: 0...1)
        #expect(ci.upper == 1 && ci.lower == raw.lower && ci.estimate == raw.estimate && ci.level == raw.level)
        #expect(raw.clamped(to: 0...Double.infinity) == raw, "inside the range: unchanged")
        let r2 = ConfidenceInterval(estimate: 0.9, lower: 0.7, upper: 1.2, level: 0.95).clamped(to: -Double.infinity...1)
        #expect(r2.lower == 0.7 && r2.upper == 1)
        let outside = ConfidenceInterval(estimate: -1, lower: -2, upper: -0.5, level: 0.95).clamped(to: 0...1)
        #expect(outside.lower == 0 && outside.upper == 0, "an interval wholly below the range collapses onto its edge")
    }
}
