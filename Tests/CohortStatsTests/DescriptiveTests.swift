// Median, mean, sample standard deviation, numpy-linear quantiles, min/max,
// and the errors for empty, too short and non-finite input.
// Reference values: numpy 2.4.6 on this machine (np.quantile, default method="linear").
import Testing
import CohortStats

@Suite struct DescriptiveTests {
    @Test func basicSummaries() throws {
        let xs = [2.0, 4, 4, 4, 5, 5, 7, 9]
        #expect(try mean(xs) == 5)
        #expect(try median(xs) == 4.5)
        #expect(try median([3.0, 1, 2]) == 2)
        // Σ(x − 5)² = 32, so the n − 1 variance is 32/7.
        #expect(close(try variance(xs), 32.0 / 7))
        #expect(close(try standardDeviation(xs), (32.0 / 7).squareRoot()))
        #expect(try minimum(xs) == 2)
        #expect(try maximum(xs) == 9)
    }

    @Test func standardDeviationIsStableForLargeOffsets() throws {
        // Same spread as [1, 2, 3, 4] (sd = √(5/3)) shifted by 1e9.
        let xs = [1.0, 2, 3, 4].map { $0 + 1e9 }
        #expect(close(try standardDeviation(xs), (5.0 / 3).squareRoot(), 1e-7))
    }

    // np.quantile([3.0, 1.0, 4.0, 1.5, 10.0], [0, 0.1, 0.25, 0.5, 0.9, 1.0])
    //   = [1.0, 1.2, 1.5, 3.0, 7.6000000000000005, 10.0]
    @Test(arguments: [(0.0, 1.0), (0.1, 1.2), (0.25, 1.5), (0.5, 3.0), (0.9, 7.6), (1.0, 10.0)])
    func quantileMatchesNumpyLinear(p: Double, expected: Double) throws {
        #expect(close(try quantile([3.0, 1.0, 4.0, 1.5, 10.0], p: p), expected, 1e-12))
    }

    @Test func quantileOfOneSampleIsThatSample() throws {
        #expect(try quantile([7.5], p: 0.3) == 7.5)
        #expect(try median([7.5]) == 7.5)
    }

    @Test func rejectsEmptyInput() {
        #expect(throws: StatsError.empty("median")) { try median([]) }
        #expect(throws: StatsError.empty("mean")) { try mean([]) }
        #expect(throws: StatsError.empty("quantile")) { try quantile([], p: 0.5) }
        #expect(throws: StatsError.empty("minimum")) { try minimum([]) }
        #expect(throws: StatsError.empty("maximum")) { try maximum([]) }
        #expect(throws: StatsError.empty("standardDeviation")) { try standardDeviation([]) }
    }

    @Test func rejectsTooFewAndNonFinite() {
        #expect(throws: StatsError.tooFew("standardDeviation", needed: 2, got: 1)) { try standardDeviation([1]) }
        #expect(throws: StatsError.nonFinite("mean", index: 1)) { try mean([1, .nan, 3]) }
        #expect(throws: StatsError.nonFinite("median", index: 2)) { try median([1, 2, .infinity]) }
        #expect(throws: StatsError.self) { try quantile([1, 2], p: 1.5) }
        #expect(throws: StatsError.self) { try quantile([1, 2], p: .nan) }
    }

    @Test func errorMessagesSayWhatWasWrong() {
        #expect(StatsError.empty("median").description == "median: no samples")
        #expect(StatsError.nonFinite("mean", index: 1).description == "mean: sample 1 is NaN or infinite")
        #expect(StatsError.tooFew("variance", needed: 2, got: 1).description == "variance: needs at least 2 samples, got 1")
    }
}
