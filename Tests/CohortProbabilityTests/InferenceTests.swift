// Maximum likelihood with Adam/SGD against closed-form MLEs and scipy's `fit`,
// conjugate updates, Bayesian linear regression against numpy, and HMC / random-walk
// Metropolis recovering known posterior means within 4 Monte Carlo standard errors
// (seeded, so deterministic).
import Foundation
import Testing
import CohortCore
import CohortProbability
import CohortStats
import CohortTensor

@Suite struct InferenceTests {
    /// Draws `n` values from `d` with a fixed seed, as a tensor and as doubles.
    func data(_ d: some Distribution, _ n: Int, seed: UInt64) throws -> (Tensor, [Double]) {
        var g = RandomGenerator(seed: seed)
        let x = try d.sample(n, generator: &g)
        return (x, x.scalars.map { Double($0) })
    }

    @Test func maximumLikelihoodMatchesClosedForms() throws {
        let (x, values) = try data(try CohortProbability.Normal(loc: 2, scale: 1.5), 1000, seed: 1)
        let m = values.reduce(0, +) / 1000, sd = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / 1000).squareRoot()
        let normal = try fitMaximumLikelihood(data: x, initial: [Tensor.full([], 0), Tensor.full([], 0)], steps: 1500) {
            try CohortProbability.Normal(loc: $0[0], scale: $0[1].exp())
        }
        #expect(abs(Double(normal.parameters[0][0]) - m) < 2e-3 * max(1, abs(m)), "μ \(normal.parameters[0]) vs \(m)")
        #expect(abs(exp(Double(normal.parameters[1][0])) - sd) < 2e-3 * sd, "σ vs \(sd)")
        #expect(normal.negativeLogLikelihood < normal.initialNegativeLogLikelihood)

        let (e, ev) = try data(try Exponential(rate: 0.4), 1000, seed: 2)
        let rate = 1000 / ev.reduce(0, +)
        let exponential = try fitMaximumLikelihood(data: e, initial: [Tensor.full([], 0)], steps: 1500) {
            try Exponential(rate: $0[0].exp())
        }
        #expect(abs(exp(Double(exponential.parameters[0][0])) - rate) < 2e-3 * rate, "λ vs \(rate)")

        let (p, pv) = try data(try Poisson(rate: 6.3), 1000, seed: 3)
        let poissonRate = pv.reduce(0, +) / 1000
        let poisson = try fitMaximumLikelihood(data: p, initial: [Tensor.full([], 0)], optimizer: .sgd(learningRate: 0.05, momentum: 0.9),
                                               steps: 800) { try Poisson(rate: $0[0].exp()) }
        #expect(abs(exp(Double(poisson.parameters[0][0])) - poissonRate) < 2e-3 * poissonRate, "Poisson λ vs \(poissonRate)")
    }

    // scipy.stats.gamma.fit(data, floc=0) and beta.fit(data, floc=0, fscale=1): 5e-3 relative (scipy's own optimiser tolerance).
    @Test func maximumLikelihoodMatchesScipyFit() throws {
        let gf = object("gammaFit"), gd = doubles(gf["data"])
        let gamma = try fitMaximumLikelihood(data: try tensor(gd), initial: [Tensor.full([], 0), Tensor.full([], 0)], steps: 3000) {
            try Gamma(concentration: $0[0].exp(), rate: $0[1].exp())
        }
        #expect(near(exp(Double(gamma.parameters[0][0])), number(gf["concentration"]), relative: 5e-3), "\(gamma.parameters)")
        #expect(near(exp(Double(gamma.parameters[1][0])), number(gf["rate"]), relative: 5e-3), "\(gamma.parameters)")
        let bf = object("betaFit"), bd = doubles(bf["data"])
        let beta = try fitMaximumLikelihood(data: try tensor(bd), initial: [Tensor.full([], 0), Tensor.full([], 0)], steps: 3000) {
            try Beta(alpha: $0[0].exp(), beta: $0[1].exp())
        }
        #expect(near(exp(Double(beta.parameters[0][0])), number(bf["alpha"]), relative: 5e-3), "\(beta.parameters)")
        #expect(near(exp(Double(beta.parameters[1][0])), number(bf["beta"]), relative: 5e-3), "\(beta.parameters)")
    }

    @Test func conjugateUpdates() throws {
        let post = try BetaBinomialModel(alpha: 2, beta: 2).posterior(successes: 7, trials: 20)
        #expect(post == (try BetaBinomialModel(alpha: 9, beta: 15)))
        #expect(abs(post.mean - 0.375) < 1e-15)
        let ci = try post.credibleInterval(level: 0.95)
        #expect(abs(regularizedIncompleteBeta(9, 15, x: ci.lower) - 0.025) < 1e-10)
        let normal = try NormalKnownVarianceModel(mean: 0, variance: 4, noiseVariance: 1).posterior(observations: [1, 2, 3])
        // precision 1/4 + 3 = 3.25; mean 6 / 3.25.
        #expect(abs(normal.variance - 1 / 3.25) < 1e-15 && abs(normal.mean - 6 / 3.25) < 1e-15)
        let gamma = try GammaPoissonModel(shape: 2, rate: 1).posterior(counts: [3, 5, 4])
        #expect(gamma.shape == 14 && gamma.rate == 4)
        #expect(throws: CohortError.self) { try BetaBinomialModel(alpha: 1, beta: 1).posterior(successes: 5, trials: 3) }
    }

    @Test func bayesianLinearRegressionMatchesNumpy() throws {
        let f = object("blr")
        let blr = try BayesianLinearRegression(features: table(f["X"]), targets: doubles(f["y"]), priorMean: doubles(f["priorMean"]),
                                               priorCovariance: table(f["priorCovariance"]), noiseVariance: number(f["noiseVariance"]))
        #expect(zip(blr.posteriorMean, doubles(f["posteriorMean"])).allSatisfy { near($0, $1, relative: 1e-10, absolute: 1e-12) })
        #expect(zip(blr.posteriorCovariance.joined(), table(f["posteriorCovariance"]).joined()).allSatisfy {
            near($0, $1, relative: 1e-10, absolute: 1e-13)
        })
        #expect(throws: CohortError.self) {
            try BayesianLinearRegression(features: [[1, 2]], targets: [1], priorCovariance: [[1, 0], [0, -1]], noiseVariance: 1)
        }
    }

    /// log density of the Beta(9, 15) posterior of θ = sigmoid(z), in z (with the Jacobian θ(1 − θ)).
    func betaPosteriorLogDensity(_ z: Tensor) throws -> Tensor {
        let theta = z.sigmoid()
        return try (theta.log() * 9 + (1 - theta).log() * 15).sum()
    }

    @Test func hamiltonianMonteCarloRecoversTheBetaBinomialPosterior() throws {
        var g = RandomGenerator(seed: 42)
        let hmc = try HamiltonianMonteCarlo(stepSize: 0.5, leapfrogSteps: 8)
        let chain = try hmc.sample(initial: [0], samples: 2000, warmup: 500, generator: &g, logDensity: betaPosteriorLogDensity)
        let theta = chain.values(0).map { 1 / (1 + exp(-$0)) }
        let estimate = MCMC.mean(theta), mcse = MCMC.monteCarloStandardError(theta), ess = MCMC.effectiveSampleSize(theta)
        print("HMC Beta(9, 15): mean \(estimate) (truth 0.375), MCSE \(mcse), ESS \(ess), acceptance \(chain.acceptanceRate), ε \(chain.stepSize)")
        #expect(abs(estimate - 0.375) < 4 * mcse)
        #expect(chain.acceptanceRate > 0.6 && chain.acceptanceRate < 0.99)
        #expect(ess > 300 && chain.divergences == 0)
    }

    @Test func hamiltonianMonteCarloRecoversACorrelatedGaussian() throws {
        // N([1, −2], [[1, 0.9], [0.9, 1]]); precision = inverse covariance.
        let mu = try Tensor([1, -2], shape: [2, 1])
        let precision = try Tensor([1 / 0.19, -0.9 / 0.19, -0.9 / 0.19, 1 / 0.19], shape: [2, 2])
        var g = RandomGenerator(seed: 7)
        let hmc = try HamiltonianMonteCarlo(stepSize: 0.1, leapfrogSteps: 20)
        let chain = try hmc.sample(initial: [0, 0], samples: 2000, warmup: 500, generator: &g) { x in
            let d = try x.reshape([2, 1]) - mu
            return try (d * Tensor.matmul(precision, d)).sum() * -0.5
        }
        for (i, truth) in [1.0, -2.0].enumerated() {
            let estimate = chain.mean(i), mcse = chain.monteCarloStandardError(i)
            print("HMC Gaussian x\(i): mean \(estimate) (truth \(truth)), MCSE \(mcse), ESS \(chain.effectiveSampleSize(i)), acceptance \(chain.acceptanceRate), ε \(chain.stepSize)")
            #expect(chain.effectiveSampleSize(i) > 200)
            #expect(abs(estimate - truth) < 4 * mcse)
        }
        let rows = chain.samples
        #expect(abs((try correlationMatrix(rows))[0][1] - 0.9) < 0.03)
    }

    @Test func randomWalkMetropolisRecoversTheBetaBinomialPosterior() throws {
        var g = RandomGenerator(seed: 11)
        let chain = try RandomWalkMetropolis(proposalScale: 1.0)
            .sample(initial: [0], samples: 20_000, warmup: 1000, generator: &g, logDensity: betaPosteriorLogDensity)
        let theta = chain.values(0).map { 1 / (1 + exp(-$0)) }
        let estimate = MCMC.mean(theta), mcse = MCMC.monteCarloStandardError(theta), ess = MCMC.effectiveSampleSize(theta)
        print("MH Beta(9, 15): mean \(estimate) (truth 0.375), MCSE \(mcse), ESS \(ess), acceptance \(chain.acceptanceRate)")
        #expect(abs(estimate - 0.375) < 4 * mcse)
        #expect(chain.acceptanceRate > 0.2 && chain.acceptanceRate < 0.8)
    }

    @Test func effectiveSampleSizeOfKnownProcesses() {
        // Independent draws: ESS ≈ n. AR(1) with φ = 0.9: ESS ≈ n (1 − φ)/(1 + φ) ≈ n/19.
        var g = RandomGenerator(seed: 3)
        var iid: [Double] = [], ar: [Double] = [], previous = 0.0
        for _ in 0..<20_000 {
            let u = (-2 * log(max(g.nextDouble(), 1e-300))).squareRoot() * cos(2 * Double.pi * g.nextDouble())
            iid.append(u)
            previous = 0.9 * previous + (1 - 0.81).squareRoot() * u
            ar.append(previous)
        }
        let essIID = MCMC.effectiveSampleSize(iid), essAR = MCMC.effectiveSampleSize(ar)
        #expect(essIID > 17_000 && essIID < 23_000, "iid ESS \(essIID)")
        #expect(essAR > 20_000.0 / 19 * 0.75 && essAR < 20_000.0 / 19 * 1.3, "AR(1) ESS \(essAR)")
    }
}
