// The noise flag (coefficient of variation) and the baseline/candidate
// comparison with its both-tests-must-agree verdict. p-values quoted from
// scipy 1.17.1 (ttest_ind equal_var=False; mannwhitneyu two-sided, auto).
import Testing
import CohortStats

@Suite struct NoiseAndComparisonTests {
    static let baseline = [10.0, 10.2, 9.9, 10.1, 10.3, 10.0, 9.8, 10.2]

    @Test func noiseFlagUsesCoefficientOfVariation() throws {
        // [9, 10, 11]: sd = 1, mean = 10, CV = 0.1.
        #expect(close(try coefficientOfVariation([9, 10, 11]), 0.1, 1e-12))
        #expect(try isNoisy([9, 10, 11]))
        #expect(try !isNoisy([9, 10, 11], threshold: 0.15))
        #expect(try !isNoisy(Self.baseline))            // CV ≈ 0.016
        #expect(close(try relativeSpread([9, 10, 11]), 0.2, 1e-12))
        #expect(throws: StatsError.tooFew("isNoisy", needed: 2, got: 1)) { try isNoisy([1]) }
        #expect(throws: StatsError.self) { try isNoisy([-1, 1]) }   // zero mean
    }

    @Test func clearSpeedupIsFaster() throws {
        // scipy: Welch p = 6.5e-13, Mann–Whitney p = 0.00091.
        let c = try Comparison(baseline: Self.baseline, candidate: Self.baseline.map { $0 * 0.8 })
        #expect(c.verdict == .faster)
        #expect(close(c.relativeChange, -0.2, 1e-12))
        #expect(c.welchPValue < 1e-10 && relativelyClose(c.mannWhitneyPValue, 0.0009068567509923489, 1e-8))
        let back = try Comparison(baseline: Self.baseline.map { $0 * 0.8 }, candidate: Self.baseline)
        #expect(back.verdict == .slower)
    }

    @Test func sameDistributionIsNoDifference() throws {
        // scipy: Welch p = 0.881, Mann–Whitney p = 0.915.
        let c = try Comparison(baseline: Self.baseline, candidate: [10.1, 9.9, 10.2, 10.0, 10.1, 9.8, 10.3, 10.0])
        #expect(c.verdict == .noDifference && c.relativeChange == 0)
        #expect(relativelyClose(c.welchPValue, 0.8813652256946785, 1e-9))
        #expect(relativelyClose(c.mannWhitneyPValue, 0.9150418914306653, 1e-9))
    }

    @Test func bothTestsMustAgree() throws {
        // One huge outlier: the ranks say slower (exact p = 2/924 = 0.00216) but Welch does not (p = 0.347),
        // so the conservative rule reports no difference.
        let c = try Comparison(baseline: [10, 10.1, 10.2, 10.3, 10.4, 10.5], candidate: [10.6, 10.7, 10.8, 10.9, 11.0, 100])
        #expect(relativelyClose(c.mannWhitneyPValue, 0.0021645021645021645, 1e-12))
        #expect(relativelyClose(c.welchPValue, 0.3472692390069349, 1e-9))
        #expect(c.verdict == .noDifference)
        // With a looser alpha both tests reject and the verdict follows the medians.
        #expect(try Comparison(baseline: [10, 10.1, 10.2, 10.3, 10.4, 10.5], candidate: [10.6, 10.7, 10.8, 10.9, 11.0, 100],
                               alpha: 0.4).verdict == .slower)
    }

    @Test func rejectsBadInput() {
        #expect(throws: StatsError.self) { try Comparison(baseline: [1, 2], candidate: [1, 2], alpha: 0) }
        #expect(throws: StatsError.tooFew("Comparison (candidate)", needed: 2, got: 1)) {
            try Comparison(baseline: [1, 2], candidate: [1])
        }
        #expect(throws: StatsError.empty("Comparison (baseline)")) { try Comparison(baseline: [], candidate: [1, 2]) }
    }
}
