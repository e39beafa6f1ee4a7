// Every distribution's logProb, cdf, quantile, mean, variance and entropy against
// scipy.stats (Fixtures/probability_fixtures.json). Tolerances: log-probabilities are
// Float32 tensor ops, so 3e-4 absolute + 1e-5 relative (terms reach ~10³ for n = 500);
// cdf/quantile run in Double on Float32 parameters, so 1e-4 relative + 1e-6 absolute;
// discrete quantiles exactly; moments and entropies 1e-5 relative + 1e-5 absolute.
import Foundation
import Testing
import CohortCore
import CohortProbability
import CohortTensor

@Suite struct DistributionFixtureTests {
    @Test func univariateCasesMatchScipy() throws {
        let cases = probabilityFixtures["cases"] as? [[String: Any]] ?? []
        #expect(cases.count == 15)
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let d = try makeDistribution(name, c["params"] as? [String: Any] ?? [:])
            let label = "\(name)\(c["params"] ?? "")"
            let xs = doubles(c["x"]), ps = doubles(c["p"])
            let logProb = try d.logProb(try tensor(xs)).scalars, cdf = try d.cdf(try tensor(xs)).scalars
            for (i, x) in xs.enumerated() {
                let e = doubles(c["logProb"])[i]
                #expect(near(Double(logProb[i]), e, relative: 1e-5, absolute: 3e-4), "\(label) logProb(\(x)) = \(logProb[i]), scipy \(e)")
                let ec = doubles(c["cdf"])[i]
                #expect(near(Double(cdf[i]), ec, relative: 1e-4, absolute: 1e-6), "\(label) cdf(\(x)) = \(cdf[i]), scipy \(ec)")
            }
            let q = try d.quantile(try tensor(ps)).scalars
            let discrete = ["Poisson", "Binomial", "Bernoulli"].contains(name)
            for (i, p) in ps.enumerated() {
                let e = doubles(c["quantile"])[i]
                let ok = discrete ? Double(q[i]) == e : near(Double(q[i]), e, relative: 1e-4, absolute: 1e-6)
                #expect(ok, "\(label) quantile(\(p)) = \(q[i]), scipy \(e)")
            }
            for (what, value) in [("mean", try d.mean), ("variance", try d.variance), ("entropy", try d.entropy())] {
                let e = number(c[what])
                #expect(near(Double(try value.item()), e, relative: 1e-5, absolute: 1e-5), "\(label) \(what) = \(value.scalars), scipy \(e)")
            }
        }
    }

    @Test func categoricalMatchesScipy() throws {
        let f = object("categorical"), probs = doubles(f["probs"])
        let d = try Categorical(probs: try tensor(probs))
        #expect(near(Double(try d.entropy().item()), number(f["entropy"]), relative: 1e-6))
        let lp = try d.logProb(try tensor([0, 3, 2])).scalars
        #expect(zip(lp, [0.1, 0.4, 0.3]).allSatisfy { near(Double($0), log($1), relative: 1e-6) })
        #expect(throws: CohortError.self) { try d.logProb(try tensor([4])) }
        #expect(throws: CohortError.self) { try d.mean }
    }

    @Test func multivariateNormalMatchesScipy() throws {
        let f = object("mvn")
        let d = try MultivariateNormal(loc: try tensor(doubles(f["loc"])), covariance: table(f["covariance"]))
        let points = table(f["x"])
        let lp = try d.logProb(try Tensor(points.joined().map { Float($0) }, shape: [points.count, 3])).scalars
        for (a, e) in zip(lp, doubles(f["logProb"])) { #expect(near(Double(a), e, relative: 1e-5, absolute: 1e-5), "\(a) vs \(e)") }
        #expect(near(Double(try d.entropy().item()), number(f["entropy"]), relative: 1e-6))
        let cov = d.covariance, expected = table(f["covariance"])
        #expect(zip(cov.joined(), expected.joined()).allSatisfy { near($0, $1, relative: 1e-6, absolute: 1e-7) })
    }

    @Test func batchedParametersBroadcast() throws {
        let d = try Normal(loc: try tensor([0, 1, 2]), scale: Tensor.full([], 2))
        #expect(d.batchShape == [3])
        let lp = try d.logProb(Tensor.full([], 1))
        #expect(lp.shape == [3])
        var g = RandomGenerator(seed: 1)
        #expect(try d.sample(5, generator: &g).shape == [5, 3])
    }

    @Test func badParametersAreClearErrors() throws {
        #expect(throws: CohortError.invalidArgument("Normal: scale must be finite and > 0, got -1.0")) { try Normal(loc: 0, scale: -1) }
        #expect(throws: CohortError.invalidArgument("Gamma: rate must be finite and > 0, got 0.0 (element 1)")) {
            try Gamma(concentration: Tensor.full([2], 1), rate: try tensor([1, 0]))
        }
        #expect(throws: CohortError.self) { try Uniform(low: 2, high: 1) }
        #expect(throws: CohortError.self) { try Beta(alpha: 0, beta: 1) }
        #expect(throws: CohortError.invalidArgument("Poisson.logProb: value 1 is 2.5, outside the support (0, 1, 2, ...)")) {
            try Poisson(rate: 2).logProb(try tensor([1, 2.5]))
        }
        #expect(throws: CohortError.self) { try MultivariateNormal(loc: try tensor([0, 0]), covariance: [[1, 2], [2, 1]]) }
        #expect(throws: CohortError.self) { try Normal(loc: 0, scale: 1).quantile(try tensor([1.5])) }
        // Continuous values outside the support have log-probability −∞, as scipy.
        #expect(try Exponential(rate: 1).logProb(try tensor([-1])).scalars == [-.infinity])
        #expect(try Beta(alpha: 2, beta: 2).logProb(try tensor([1.5])).scalars == [-.infinity])
    }
}
