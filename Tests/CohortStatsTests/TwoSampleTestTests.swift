// Welch's t-test and Mann–Whitney U against scipy 1.17.1 (stats.ttest_ind with
// equal_var=False, stats.mannwhitneyu with alternative="two-sided", run on this
// machine) and, for the exact U distribution, brute-force enumeration here.
import Testing
@testable import CohortStats

@Suite struct TwoSampleTestTests {
    // The samples of Wikipedia's Welch's t-test "example 1" as given in the task. scipy on exactly these
    // numbers gives t = −2.225512039969852, ν = 24.524634944257343, p = 0.035484530830010394.
    // (The t = −2.46, ν ≈ 24.9, p ≈ 0.021 quoted alongside them do not match this data.)
    static let a = [19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0]
    static let b = [28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7,
                    23.2, 17.5, 20.6, 18.0, 23.9, 21.6, 24.3, 20.4, 23.9, 13.3]

    @Test func welchMatchesScipy() throws {
        let r = try welchTTest(Self.a, Self.b)
        #expect(close(r.t, -2.225512039969852, 1e-12))
        #expect(close(r.degreesOfFreedom, 24.524634944257343, 1e-12))
        #expect(relativelyClose(r.pValue, 0.035484530830010394, 1e-9))
        // Swapping the samples flips t and keeps ν and p.
        let s = try welchTTest(Self.b, Self.a)
        #expect(s.t == -r.t && s.degreesOfFreedom == r.degreesOfFreedom && s.pValue == r.pValue)
    }

    @Test func welchDegenerateAndErrors() throws {
        #expect(try welchTTest([1, 1, 1], [1, 1]).pValue == 1)
        let apart = try welchTTest([1, 1, 1], [2, 2])
        #expect(apart.pValue == 0 && apart.t == -.infinity)
        #expect(throws: StatsError.tooFew("welchTTest (second sample)", needed: 2, got: 1)) { try welchTTest([1, 2], [3]) }
    }

    /// Two-sided exact p by enumerating every split of the pooled values into groups of the original sizes.
    static func bruteForceExactP(_ x: [Double], _ y: [Double]) -> Double {
        let pooled = x + y, n = pooled.count, m = x.count
        func u(_ group: [Double], _ rest: [Double]) -> Int {
            group.reduce(0) { sum, g in sum + rest.filter { g > $0 }.count }
        }
        let observed = u(x, y)
        var atMost = 0, atLeast = 0, total = 0
        for mask in 0..<(1 << n) where mask.nonzeroBitCount == m {
            let group = (0..<n).filter { mask >> $0 & 1 == 1 }.map { pooled[$0] }
            let rest = (0..<n).filter { mask >> $0 & 1 == 0 }.map { pooled[$0] }
            let value = u(group, rest)
            total += 1
            if value <= observed { atMost += 1 }
            if value >= observed { atLeast += 1 }
        }
        return min(1, 2 * Double(min(atMost, atLeast)) / Double(total))
    }

    @Test(arguments: [
        ([1.1, 2.3, 0.7, 3.9, 2.8], [4.2, 5.5, 3.1, 6.0, 4.8, 5.1]),
        ([3.0, 7.5, 1.25, 9.0, 4.5, 6.0, 2.0], [5.0, 8.0, 10.5, 6.5, 11.0, 12.0, 0.5, 9.5]),
        ([2.0, 1.0, 3.0], [2.5, 0.5]),
    ])
    func exactMatchesEnumeration(x: [Double], y: [Double]) throws {
        let r = try mannWhitneyU(x, y)
        #expect(r.method == .exact)
        #expect(close(r.pValue, Self.bruteForceExactP(x, y), 1e-14))
    }

    @Test func exactMatchesScipy() throws {
        // scipy: U = 1.0, p = 0.008658008658008658 (= 4/462) with method="exact".
        let small = try mannWhitneyU([1.1, 2.3, 0.7, 3.9, 2.8], [4.2, 5.5, 3.1, 6.0, 4.8, 5.1])
        #expect(small.u == 1 && close(small.pValue, 0.008658008658008658, 1e-14))
        // The largest exact case, 10 vs 10 without ties (a with its second 18.9 changed to 18.8, and the first
        // 10 values of b). scipy method="exact": U = 23, p = 0.04325705254497823; swapped, U = 77, same p.
        let x = [19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.8, 19.5, 22.0]
        let y = Array(Self.b.prefix(10))
        let r = try mannWhitneyU(x, y)
        #expect(r.method == .exact && r.u == 23 && relativelyClose(r.pValue, 0.04325705254497823, 1e-12))
        let swapped = try mannWhitneyU(y, x)
        #expect(swapped.u == 77 && swapped.pValue == r.pValue)
    }

    @Test func normalApproximationWithTiesMatchesScipy() throws {
        // scipy method="asymptotic", use_continuity=True: U = 39.5, p = 0.03806820204794344.
        let r = try mannWhitneyU([1, 2, 2, 3, 4, 5, 5, 5, 7, 8, 9, 12], [3, 4, 5, 6, 6, 7, 8, 9, 10, 11, 12, 13, 14])
        #expect(r.method == .normalApproximation)
        #expect(r.u == 39.5 && relativelyClose(r.pValue, 0.03806820204794344, 1e-10))
        // The Welch samples (10 vs 20, with ties): U = 55.5, p = 0.05279379552204588.
        let w = try mannWhitneyU(Self.a, Self.b)
        #expect(w.u == 55.5 && relativelyClose(w.pValue, 0.05279379552204588, 1e-10))
    }

    @Test func uDistributionIsSymmetricAndComplete() {
        let counts = uDistributionCounts(4, 6)
        #expect(counts.count == 25 && counts.reduce(0, +) == 210)   // C(10, 4)
        #expect(counts == counts.reversed())
    }

    @Test func exactOnlyUpToTheLimit() throws {
        let eleven = (0..<11).map { Double($0) }, ten = (0..<10).map { Double($0) + 0.5 }
        #expect(try mannWhitneyU(eleven, ten).method == .normalApproximation)
        #expect(try mannWhitneyU(Array(eleven.prefix(10)), ten).method == .exact)
    }

    @Test func allTiedGivesPOne() throws {
        let r = try mannWhitneyU([5, 5, 5], [5, 5, 5, 5])
        #expect(r.u == 6 && r.pValue == 1)
    }

    @Test func rejectsBadInput() {
        #expect(throws: StatsError.empty("mannWhitneyU (first sample)")) { try mannWhitneyU([], [1]) }
        #expect(throws: StatsError.nonFinite("mannWhitneyU (second sample)", index: 0)) { try mannWhitneyU([1], [.nan]) }
    }
}
