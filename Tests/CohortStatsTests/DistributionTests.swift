// Student's t and the normal distribution against published tables and scipy.
// "scipy" below means scipy 1.17.1 (stats.t, stats.norm, special.betainc) and
// Python's math.lgamma, run on this machine when the module was written.
import Testing
@testable import CohortStats

@Suite struct DistributionTests {
    // Two-sided 95 % critical values t_{0.975, ν} from published t-tables (agree with scipy's t.ppf).
    @Test(arguments: [(1.0, 12.7062047), (2, 4.30265273), (5, 2.57058184), (10, 2.22813885), (30, 2.04227246)])
    func tTableCriticalValues(df: Double, expected: Double) throws {
        let t = try StudentT(degreesOfFreedom: df)
        #expect(close(try t.quantile(0.975), expected, 1e-8))
        #expect(close(try t.quantile(0.025), -expected, 1e-8))
    }

    // scipy: stats.t.ppf(p, ν), including non-integer ν and far tails.
    @Test(arguments: [
        (2.5, 0.9, 1.7302509288071766), (24.9, 0.025, -2.059958032459835), (0.5, 0.99, 1028.4910104716198),
        (3, 1e-6, -103.29946778041935), (1e6, 0.975, 1.959966356814107), (7.3, 0.3, -0.5480628979421774),
        (1e5, 0.05, -1.6448688647849699),
    ])
    func tQuantileMatchesScipy(df: Double, p: Double, expected: Double) throws {
        #expect(close(try StudentT(degreesOfFreedom: df).quantile(p), expected, 1e-10))
    }

    // scipy: stats.t.cdf(t, ν).
    @Test(arguments: [
        (1.0, 1.0, 0.75), (24.9, -2.46, 0.010592733644480322), (2.5, 0.7, 0.728297528405226),
        (0.5, 3.0, 0.8163459220070283), (30, 4.0, 0.9998090771819581), (3, -50.0, 8.808576020635984e-06),
        (100, 1.5, 0.9316174709376556), (1e5, -3.0, 0.0013502304420323617),
    ])
    func tCDFMatchesScipy(df: Double, t: Double, expected: Double) throws {
        let dist = try StudentT(degreesOfFreedom: df)
        #expect(relativelyClose(dist.cdf(t), expected, 1e-10))
    }

    @Test func tQuantileInvertsCDF() throws {
        for df in [0.7, 1, 3.3, 12, 250] {
            let dist = try StudentT(degreesOfFreedom: df)
            for p in [1e-9, 0.001, 0.2, 0.5, 0.8, 0.999] {
                #expect(relativelyClose(dist.cdf(try dist.quantile(p)), p, 1e-9))
            }
        }
    }

    @Test func tEdgesAndErrors() throws {
        let t = try StudentT(degreesOfFreedom: 4)
        #expect(try t.quantile(0) == -.infinity)
        #expect(try t.quantile(1) == .infinity)
        #expect(try t.quantile(0.5) == 0)
        #expect(t.cdf(.infinity) == 1 && t.cdf(-.infinity) == 0)
        #expect(t.twoSidedPValue(0) == 1)
        #expect(throws: StatsError.self) { try StudentT(degreesOfFreedom: 0) }
        #expect(throws: StatsError.self) { try StudentT(degreesOfFreedom: .nan) }
        #expect(throws: StatsError.self) { try t.quantile(-0.1) }
    }

    // 1.959963985 is the textbook two-sided 95 % z; the rest are scipy's stats.norm.ppf / norm.cdf.
    @Test(arguments: [(0.975, 1.959963984540054), (0.5, 0.0), (0.9, 1.2815515655446004),
                      (1e-10, -6.361340902404056), (0.999999, 4.753424308817087), (0.3, -0.5244005127080409)])
    func normalQuantile(p: Double, expected: Double) throws {
        #expect(close(try Normal.quantile(p), expected, 1e-9))
    }

    @Test(arguments: [(1.0, 0.8413447460685429), (-1.96, 0.024997895148220435), (0.0, 0.5),
                      (-8.0, 6.22096057427174e-16), (3.5, 0.9997673709209645)])
    func normalCDF(z: Double, expected: Double) {
        #expect(abs(Normal.cdf(z) - expected) <= 1e-12 * expected)
    }

    @Test func largeDegreesOfFreedomApproachNormal() throws {
        let t = try StudentT(degreesOfFreedom: 1e7)
        #expect(close(try t.quantile(0.975), try Normal.quantile(0.975), 1e-6))
    }

    // Python math.lgamma.
    @Test(arguments: [(0.5, 0.5723649429247004), (1.0, 0.0), (1.5, -0.12078223763524543), (3.7, 1.4280723266653883),
                      (10.0, 12.801827480081467), (171.5, 709.1431630309282), (1e-3, 6.907178885383854)])
    func logGammaMatchesLibm(x: Double, expected: Double) {
        #expect(close(logGamma(x), expected, 1e-13))
    }

    // mpmath 1.3.0 at 40 digits: log(beta(a, b)). B(½, ½) = π and B(3, 4) = 1/60 exactly. The large-a cases are
    // where a naive log Γ(a + b) − log Γ(a) loses ~10 digits to cancellation (scipy's betaln is off by ~1e-11 there).
    @Test(arguments: [(5e4, 0.5, -4.837521699280441), (0.5, 0.5, 1.1447298858494002), (3, 4, -4.0943445622221),
                      (0.05, 0.5, 3.061213287865305), (1e6, 2.5, -34.254095399436515)])
    func logBetaMatchesMpmath(a: Double, b: Double, expected: Double) {
        #expect(relativelyClose(logBeta(a, b), expected, 1e-13))
    }

    // scipy: special.betainc(a, b, x). I_0.4(2, 3) = 0.5248 exactly (a binomial tail).
    @Test(arguments: [(0.5, 0.5, 0.3, 0.36901011956554536), (2, 3, 0.4, 0.5248), (12.45, 0.5, 0.8, 0.019591684535413094),
                      (5, 0.5, 0.05, 7.855992178747939e-08), (100, 0.5, 0.99, 0.1567758654244408),
                      (0.25, 4, 0.9, 0.9999898620037528)])
    func incompleteBetaMatchesScipy(a: Double, b: Double, x: Double, expected: Double) {
        #expect(relativelyClose(regularizedIncompleteBeta(a, b, x: x, y: 1 - x), expected, 1e-10))
    }
}
