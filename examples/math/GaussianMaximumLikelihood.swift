// Maximum likelihood for a Gaussian. For samples x₁…xₙ from Normal(μ, σ) the negative
// log-likelihood is ℓ(μ, σ) = n log σ + Σ(xᵢ − μ)²/2σ² + (n/2) log 2π; setting ∇ℓ = 0 gives
// the closed form μ̂ = mean(x), σ̂ = sqrt(Σ(xᵢ − μ̂)²/n) (the biased standard deviation).
// Numerically, fitMaximumLikelihood minimises ℓ/n with Adam over (μ, log σ) (log σ is
// unconstrained, so σ = exp(log σ) stays positive). The curvature of ℓ at its minimum is the
// observed Fisher information I = ∇²ℓ; its inverse is the estimator's covariance, so the
// standard errors are sqrt(diag(I⁻¹)) = (σ̂/√n, σ̂/√2n) — here from an autograd Hessian.
import CohortCalculus
import CohortLinalg
import CohortProbability
import CohortTensor
import Foundation

func gaussianMaximumLikelihood(_ options: ExampleOptions) throws {
    let truth = (mu: 3.0, sigma: 2.0), n = 2000
    var generator = RandomGenerator(seed: 17)
    let samples = try Normal(loc: Float(truth.mu), scale: Float(truth.sigma)).sample(n, generator: &generator)   // [n]
    let x = samples.scalars.map(Double.init)
    print("\(n) samples from Normal(μ = \(truth.mu), σ = \(truth.sigma)), seed 17")

    // Closed form.
    let muHat = x.reduce(0, +) / Double(n)
    let sigmaHat = (x.reduce(0) { $0 + ($1 - muHat) * ($1 - muHat) } / Double(n)).squareRoot()

    // Numerical: parameters θ = (μ, log σ), started at (0, 0), i.e. Normal(0, 1).
    let fit = try fitMaximumLikelihood(data: samples, initial: [Tensor.full([], 0), Tensor.full([], 0)], steps: 1500) {
        try Normal(loc: $0[0], scale: $0[1].exp())
    }
    let muFit = Double(fit.parameters[0][0]), sigmaFit = exp(Double(fit.parameters[1][0]))
    print("Adam, \(fit.steps) steps: mean NLL \(fixed(fit.initialNegativeLogLikelihood)) → \(fixed(fit.negativeLogLikelihood))")

    // Standard errors from the closed form of the Fisher information.
    let seMu = sigmaHat / Double(n).squareRoot(), seSigma = sigmaHat / Double(2 * n).squareRoot()

    // Standard errors from the Hessian of the total NLL in (μ, σ) at the closed-form optimum.
    // Autograd differentiates twice; the mean NLL keeps Float32 sums small, then × n.
    let meanNLL: (Tensor) throws -> Tensor = { theta in
        try Normal(loc: theta.slice(axis: 0, 0, 1), scale: theta.slice(axis: 0, 1, 2)).logProb(samples).mean() * -1
    }
    let hessian = try Derivatives.hessian(of: meanNLL, at: Tensor([Float(muHat), Float(sigmaHat)])) * Float(n)   // [2, 2]
    let covariance = try Linalg.inverse(hessian).scalars.map(Double.init)
    let seHessian = (covariance[0].squareRoot(), covariance[3].squareRoot())
    let h = hessian.scalars.map(Double.init)
    print("Hessian of the NLL at (μ̂, σ̂): [[\(fixed(h[0], 2)), \(fixed(h[1], 4))], [\(fixed(h[2], 4)), \(fixed(h[3], 2))]]")
    print("  expected diag(n/σ̂², 2n/σ̂²) = diag(\(fixed(Double(n) / (sigmaHat * sigmaHat), 2)), \(fixed(2 * Double(n) / (sigmaHat * sigmaHat), 2)))")

    print("\n" + pad("", 6) + pad("truth", 8) + pad("closed form", 13) + pad("Adam fit", 11) + pad("SE (formula)", 14) + pad("SE (Hessian)", 14))
    print(pad("μ", 6) + pad(fixed(truth.mu, 3), 8) + pad(fixed(muHat, 5), 13) + pad(fixed(muFit, 5), 11)
        + pad(fixed(seMu, 5), 14) + pad(fixed(seHessian.0, 5), 14))
    print(pad("σ", 6) + pad(fixed(truth.sigma, 3), 8) + pad(fixed(sigmaHat, 5), 13) + pad(fixed(sigmaFit, 5), 11)
        + pad(fixed(seSigma, 5), 14) + pad(fixed(seHessian.1, 5), 14))
    let fitError = max(abs(muFit - muHat), abs(sigmaFit - sigmaHat))
    let seError = max(abs(seHessian.0 / seMu - 1), abs(seHessian.1 / seSigma - 1))
    print("max |Adam − closed form| = \(sci(fitError)); SE(Hessian)/SE(formula) − 1 = \(sci(seError)) at most")
    print("truth within: μ \(fixed(abs(muHat - truth.mu) / seMu, 2)) SE, σ \(fixed(abs(sigmaHat - truth.sigma) / seSigma, 2)) SE")

    // Checks: the optimizer finds the closed-form optimum, the Hessian gives the textbook
    // standard errors (off-diagonal ≈ 0 because Σ(xᵢ − μ̂) = 0), and the truth is within 4 SE.
    try check(fitError < 1e-3, "Adam's fit is \(sci(fitError)) away from the closed-form MLE")
    try check(seError < 1e-3, "Hessian standard errors differ from σ̂/√n, σ̂/√2n by \(sci(seError)) relative")
    try check(abs(h[1]) < 1e-2 * h[0], "the Hessian's off-diagonal \(h[1]) is not ≈ 0")
    try check(abs(muHat - truth.mu) < 4 * seMu && abs(sigmaHat - truth.sigma) < 4 * seSigma,
              "the estimates are more than 4 standard errors from the truth")
    print("checks passed: the MLE and its standard errors agree")
}
