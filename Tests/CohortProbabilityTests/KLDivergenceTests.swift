// Closed-form KL divergences against Monte Carlo estimates E_p[log p(X) − log q(X)]
// from 10⁵ seeded draws of p (within 5 standard errors), KL(p ‖ p) = 0, and the
// infinite KL of a uniform whose support is not covered.
import Foundation
import Testing
import CohortProbability
import CohortTensor

@Suite struct KLDivergenceTests {
    /// Checks `closedForm` against the Monte Carlo mean of log p − log q over 10⁵ draws of p.
    func check<D: Distribution>(_ p: D, _ q: D, _ closedForm: Tensor, _ label: String, seed: UInt64) throws {
        var g = RandomGenerator(seed: seed)
        let x = try p.sample(100_000, generator: &g)
        let diff = try (p.logProb(x) - q.logProb(x)).scalars.map { Double($0) }
        let n = Double(diff.count), m = diff.reduce(0, +) / n
        let se = (diff.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1) / n).squareRoot()
        let kl = Double(try closedForm.item())
        #expect(abs(kl - m) < 5 * se + 1e-4, "\(label): closed form \(kl), Monte Carlo \(m) ± \(se)")
    }

    @Test func closedFormsMatchMonteCarlo() throws {
        let n1 = try Normal(loc: 0.3, scale: 1.2), n2 = try Normal(loc: -0.5, scale: 0.8)
        try check(n1, n2, try klDivergence(n1, n2), "Normal", seed: 1)
        let e1 = try Exponential(rate: 0.7), e2 = try Exponential(rate: 2)
        try check(e1, e2, try klDivergence(e1, e2), "Exponential", seed: 2)
        let g1 = try Gamma(concentration: 2.5, rate: 1.5), g2 = try Gamma(concentration: 4, rate: 0.9)
        try check(g1, g2, try klDivergence(g1, g2), "Gamma", seed: 3)
        let b1 = try Beta(alpha: 2, beta: 5), b2 = try Beta(alpha: 1.2, beta: 1.7)
        try check(b1, b2, try klDivergence(b1, b2), "Beta", seed: 4)
        let u1 = try Uniform(low: 0, high: 1), u2 = try Uniform(low: -1, high: 2)
        try check(u1, u2, try klDivergence(u1, u2), "Uniform", seed: 5)
        let p1 = try Poisson(rate: 3), p2 = try Poisson(rate: 5.5)
        try check(p1, p2, try klDivergence(p1, p2), "Poisson", seed: 6)
        let be1 = try Bernoulli(probs: Tensor.full([], 0.3)), be2 = try Bernoulli(probs: Tensor.full([], 0.65))
        try check(be1, be2, try klDivergence(be1, be2), "Bernoulli", seed: 7)
        let c1 = try Categorical(probs: try Tensor([0.1, 0.2, 0.7], shape: [3]))
        let c2 = try Categorical(probs: try Tensor([0.4, 0.4, 0.2], shape: [3]))
        try check(c1, c2, try klDivergence(c1, c2), "Categorical", seed: 8)
        let m1 = try MultivariateNormal(loc: try Tensor([0, 1], shape: [2]), covariance: [[1, 0.5], [0.5, 2]])
        let m2 = try MultivariateNormal(loc: try Tensor([0.5, 0], shape: [2]), covariance: [[1.5, -0.2], [-0.2, 1]])
        try check(m1, m2, try klDivergence(m1, m2), "MultivariateNormal", seed: 9)
    }

    @Test func divergenceFromItselfIsZeroAndUncoveredSupportIsInfinite() throws {
        let g = try Gamma(concentration: 3, rate: 2)
        #expect(abs(try klDivergence(g, g).item()) < 1e-5)
        let n = try Normal(loc: 1, scale: 2)
        #expect(abs(try klDivergence(n, n).item()) < 1e-6)
        #expect(try klDivergence(Uniform(low: -1, high: 2), Uniform(low: 0, high: 1)).item() == .infinity)
    }
}
