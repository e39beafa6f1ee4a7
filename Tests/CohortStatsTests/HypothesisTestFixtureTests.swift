// t-, z- and χ²-tests, intervals and correlation matrices against scipy/numpy
// (Fixtures/stats_fixtures.json); degenerate input must throw, not return NaN.
import Testing
@testable import CohortStats

@Suite struct HypothesisTestFixtureTests {
    let a = fixtureDoubles("a"), b = fixtureDoubles("b"), c = fixtureDoubles("c")
    static let alternatives: [(Alternative, String)] = [(.twoSided, "twoSided"), (.less, "less"), (.greater, "greater")]

    /// statistic within 1e-10 relative, p-value within 1e-9 relative.
    func expectMatch(_ r: TestResult, _ name: String) {
        let expected = fixtureDoubles(name)
        #expect(expected.count == 2, "fixture \(name) missing")
        guard expected.count == 2 else { return }
        #expect(relativelyClose(r.statistic, expected[0], 1e-10), "\(name) statistic \(r.statistic) vs \(expected[0])")
        #expect(relativelyClose(r.pValue, expected[1], 1e-9), "\(name) p \(r.pValue) vs \(expected[1])")
    }

    @Test func tTestsMatchScipy() throws {
        for (alternative, name) in Self.alternatives {
            expectMatch(try oneSampleTTest(a, mean: 9, alternative: alternative), "oneSample_\(name)")
            expectMatch(try pairedTTest(Array(a.prefix(12)), c, alternative: alternative), "paired_\(name)")
            expectMatch(try pooledTTest(a, b, alternative: alternative), "pooled_\(name)")
            expectMatch(try welchTTest(a, b, alternative: alternative), "welch_\(name)")
        }
        let far = try oneSampleTTest(fixtureDoubles("far"))
        expectMatch(far, "farOneSample")
        #expect(far.pValue < 1e-40 && far.pValue > 0)
    }

    @Test func chiSquareGoodnessOfFitMatchesScipy() throws {
        for name in ["gof", "gofFar"] {
            let f = fixtureTest(name) as? [String: Any] ?? [:]
            let observed = doubles(f["observed"]), expected = f["expected"] == nil ? nil : doubles(f["expected"])
            let r = try chiSquareGoodnessOfFit(observed: observed, expected: expected, ddof: f["ddof"] == nil ? 0 : Int(number(f["ddof"])))
            #expect(relativelyClose(r.statistic, number(f["statistic"]), 1e-12))
            #expect(relativelyClose(r.pValue, number(f["pValue"]), 1e-10), "\(name): \(r.pValue)")
        }
    }

    @Test func chiSquareIndependenceMatchesScipy() throws {
        for name in ["table2x2", "table2x3", "table3x3Far"] {
            let f = fixtureTest(name) as? [String: Any] ?? [:]
            let r = try chiSquareIndependence(fixtureTable("", in: f["table"]))
            #expect(relativelyClose(r.test.statistic, number(f["statistic"]), 1e-12), "\(name)")
            #expect(relativelyClose(r.test.pValue, number(f["pValue"]), 1e-10), "\(name): \(r.test.pValue)")
            #expect(r.test.degreesOfFreedom == number(f["df"]))
            let expected = fixtureTable("", in: f["expected"])
            #expect(zip(r.expected.joined(), expected.joined()).allSatisfy { relativelyClose($0, $1, 1e-12) })
        }
    }

    @Test func intervalsMatchScipy() throws {
        for key in ["wilson_0_20", "wilson_7_20", "wilson_20_20", "wilson_481_1000"] {
            let f = fixtureDoubles(key)
            let ci = try wilsonInterval(successes: Int(f[0]), trials: Int(f[1]))
            #expect(close(ci.lower, f[2], 1e-12) && close(ci.upper, f[3], 1e-12), "\(key): \(ci)")
        }
        let welch = try differenceConfidenceInterval(a, b, level: 0.9), w = fixtureDoubles("welchInterval90")
        #expect(close(welch.lower, w[0], 1e-10) && close(welch.upper, w[1], 1e-10))
        let pooled = try differenceConfidenceInterval(a, b, pooled: true), p = fixtureDoubles("pooledInterval95")
        #expect(close(pooled.lower, p[0], 1e-10) && close(pooled.upper, p[1], 1e-10))
    }

    @Test func correlationMatricesMatchNumpy() throws {
        let table = fixtureTable("table")
        #expect(table.count == 25)
        for (name, m) in [("covariance", try covarianceMatrix(table)), ("pearson", try correlationMatrix(table)),
                          ("spearman", try correlationMatrix(table, method: .spearman))] {
            let expected = fixtureTable(name)
            #expect(zip(m.joined(), expected.joined()).allSatisfy { close($0, $1, 1e-12) }, "\(name): \(m)")
        }
    }

    @Test func zTestsAgainstTheNormalTail() throws {
        // z = (10.5 − 10) / (2 / √4) = 0.5; p = 2·Φ(−0.5).
        let r = try zTest([10, 11, 10.5, 10.5], mean: 10, sigma: 2)
        #expect(close(r.statistic, 0.5, 1e-15) && close(r.pValue, 0.6170750774519738, 1e-12))
        let far = try zTest([40], sigma: 1, alternative: .greater)   // Φ(−40) = 3.655893540915e-350 underflows
        #expect(far.pValue == 0 || far.pValue < 1e-300)
        let tail = try zTest([30], sigma: 1, alternative: .greater)
        #expect(relativelyClose(tail.pValue, 4.906713927148187e-198, 1e-10))   // scipy norm.sf(30)
        // Proportions: 60 of 100 against 0.5 gives z = 2; two samples 45/100 vs 30/100 give z ≈ 2.1909.
        let one = try proportionZTest(successes: 60, trials: 100, p0: 0.5)
        #expect(close(one.statistic, 2, 1e-14) && close(one.pValue, 0.04550026389635842, 1e-12))
        let two = try twoProportionZTest(successes1: 45, trials1: 100, successes2: 30, trials2: 100)
        #expect(close(two.statistic, 2.1908902300206643, 1e-12))
        let ab = try twoSampleZTest([1, 2, 3], [0, 1], sigmaA: 1, sigmaB: 2, alternative: .less)
        #expect(close(ab.statistic, 1.5 / (1.0 / 3 + 4.0 / 2).squareRoot(), 1e-14))
    }

    @Test func degenerateInputThrowsClearErrors() throws {
        #expect(throws: StatsError.degenerate("oneSampleTTest: the sample has zero variance, so t is undefined")) {
            try oneSampleTTest([3, 3, 3])
        }
        #expect(throws: StatsError.tooFew("oneSampleTTest", needed: 2, got: 1)) { try oneSampleTTest([3]) }
        #expect(throws: StatsError.self) { try pairedTTest([1, 2, 3], [1, 2]) }
        #expect(throws: StatsError.self) { try pairedTTest([1, 2, 3], [0, 1, 2]) }   // constant differences
        #expect(throws: StatsError.self) { try pooledTTest([1, 1], [1, 1]) }
        #expect(throws: StatsError.self) { try welchTTest([2, 2], [1, 1], alternative: .less) }
        #expect(throws: StatsError.self) { try twoProportionZTest(successes1: 0, trials1: 5, successes2: 0, trials2: 9) }
        #expect(throws: StatsError.self) { try proportionZTest(successes: 6, trials: 5, p0: 0.5) }
        #expect(throws: StatsError.self) { try chiSquareGoodnessOfFit(observed: [1, 2], expected: [1, 1]) }
        #expect(throws: StatsError.degenerate("chiSquareIndependence: column 1 sums to zero")) {
            try chiSquareIndependence([[1, 0], [2, 0]])
        }
        #expect(throws: StatsError.degenerate("correlationMatrix: column 1 has zero variance, so its correlation is undefined")) {
            try correlationMatrix([[1, 5], [2, 5], [3, 5]])
        }
        #expect(throws: StatsError.invalidArgument("covarianceMatrix: row 1 has 1 values, row 0 has 2")) {
            try covarianceMatrix([[1, 2], [3]])
        }
        #expect(throws: StatsError.self) { try zTest([1, 2], sigma: 0) }
    }
}
