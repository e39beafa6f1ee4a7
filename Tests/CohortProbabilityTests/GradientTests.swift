// Autograd through log-probabilities, entropies and KL divergences (finite-difference
// gradcheck), and reparameterized sampling: gradcheck of rsample with a fixed seed,
// plus a Monte Carlo check that ∂/∂θ E[f(X)] from rsample matches the analytic value.
import Testing
import CohortProbability
import CohortTensor
import CohortTestSupport

@Suite struct GradientTests {
    func leaf(_ values: [Float]) throws -> Tensor { try Tensor(values, shape: [values.count], requiresGrad: true) }

    func expectPass(_ r: GradcheckResult, _ label: String) { #expect(r.passed, "\(label): \(r)") }

    @Test func logProbGradientsMatchFiniteDifferences() throws {
        let x = try Tensor([0.3, 1.7, 2.4], shape: [3])
        expectPass(try gradcheck([try leaf([0.5, 1, -0.4]), try leaf([0.8, 1.3, 2])]) {
            try Normal(loc: $0[0], scale: $0[1]).logProb(x)
        }, "Normal")
        expectPass(try gradcheck([try leaf([0.7, 1.9, 0.4])]) { try Exponential(rate: $0[0]).logProb(x) }, "Exponential")
        expectPass(try gradcheck([try leaf([1.5, 3, 0.8]), try leaf([2, 0.7, 1.2])]) {
            try Gamma(concentration: $0[0], rate: $0[1]).logProb(x)
        }, "Gamma")
        let u = try Tensor([0.2, 0.55, 0.9], shape: [3])
        expectPass(try gradcheck([try leaf([1.5, 3, 0.8]), try leaf([2, 0.7, 1.2])]) {
            try Beta(alpha: $0[0], beta: $0[1]).logProb(u)
        }, "Beta")
        expectPass(try gradcheck([try leaf([2.5, 6, 1.2]), try leaf([0.1, -0.5, 2]), try leaf([1.1, 0.6, 2])]) {
            try StudentT(degreesOfFreedom: $0[0], loc: $0[1], scale: $0[2]).logProb(x)
        }, "StudentT")
        let b = try Tensor([0, 1, 1], shape: [3])
        expectPass(try gradcheck([try leaf([-1.2, 0.4, 2.1])]) { try Bernoulli(logits: $0[0]).logProb(b) }, "Bernoulli")
        let logits = try Tensor([0.2, -1, 0.5, 1.1, 0.3, -0.4], shape: [2, 3], requiresGrad: true)
        let classes = try Tensor([2, 0], shape: [2])
        expectPass(try gradcheck([logits]) { try Categorical(logits: $0[0]).logProb(classes) }, "Categorical")
        expectPass(try gradcheck([try leaf([1.2, 4, 0.6])]) { try Poisson(rate: $0[0]).logProb(try Tensor([0, 3, 2], shape: [3])) }, "Poisson")
    }

    @Test func entropyAndKLGradients() throws {
        expectPass(try gradcheck([try leaf([1.5, 3, 0.8]), try leaf([2, 0.7, 1.2])]) {
            try Gamma(concentration: $0[0], rate: $0[1]).entropy()
        }, "Gamma entropy")
        expectPass(try gradcheck([try leaf([1.5, 3, 0.8]), try leaf([2, 0.7, 1.2])]) {
            try klDivergence(Beta(alpha: $0[0], beta: $0[1]), Beta(alpha: 2, beta: 2))
        }, "Beta KL")
        expectPass(try gradcheck([try leaf([0.5, -1]), try leaf([0.8, 1.3])]) {
            try klDivergence(Normal(loc: $0[0], scale: $0[1]), Normal(loc: 0.2, scale: 1.1))
        }, "Normal KL")
    }

    @Test func normalRsampleCarriesGradients() throws {
        let loc = try leaf([0.5, -1]), scale = try leaf([0.8, 1.3])
        expectPass(try gradcheck([loc, scale]) {
            var g = RandomGenerator(seed: 5)   // the same ε on every evaluation
            return try Normal(loc: $0[0], scale: $0[1]).rsample(4, generator: &g)
        }, "Normal rsample")
        // L = raw ⊙ lower-triangular mask, so every element of raw can be perturbed (the upper one has gradient 0).
        let mvnLoc = try leaf([0.5, -1]), raw = try Tensor([1.2, 0.3, 0.4, 0.7], shape: [2, 2], requiresGrad: true)
        let mask = try Tensor([1, 0, 1, 1], shape: [2, 2])
        expectPass(try gradcheck([mvnLoc, raw]) {
            var g = RandomGenerator(seed: 6)
            return try MultivariateNormal(loc: $0[0], scaleTril: $0[1] * mask).rsample(3, generator: &g)
        }, "MultivariateNormal rsample")
    }

    // E[X²] = μ² + σ² for X ~ N(μ, σ²): the reparameterized Monte Carlo gradient must be (2μ, 2σ)
    // within 5 standard errors (the per-draw gradients are 2x and 2xε).
    @Test func monteCarloGradientOfReparameterizedSamples() throws {
        let mu: Float = 0.7, sigma: Float = 1.3, n = 100_000
        let loc = Tensor.full([], mu, requiresGrad: true), scale = Tensor.full([], sigma, requiresGrad: true)
        var g = RandomGenerator(seed: 77)
        let x = try Normal(loc: loc, scale: scale).rsample(n, generator: &g)
        try x.square().mean().backward()
        let gradLoc = Double(try loc.grad!.item()), gradScale = Double(try scale.grad!.item())
        // Var(2X) = 4σ²; Var(2Xε) = 4(μ² + 3σ²) for ε ~ N(0, 1).
        let seLoc = (4 * Double(sigma * sigma) / Double(n)).squareRoot()
        let seScale = (4 * Double(mu * mu + 3 * sigma * sigma) / Double(n)).squareRoot()
        #expect(abs(gradLoc - 2 * Double(mu)) < 5 * seLoc, "∂/∂μ \(gradLoc)")
        #expect(abs(gradScale - 2 * Double(sigma)) < 5 * seScale, "∂/∂σ \(gradScale)")
    }
}
