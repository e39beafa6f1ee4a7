// A Bayesian A/B test. Variant A converted 120 of 1000 visitors, B 150 of 1000. With a
// uniform Beta(1, 1) prior on each conversion rate, the posterior after k of n is
// Beta(1 + k, 1 + n − k) (the Beta prior is conjugate to the binomial likelihood).
// P(B > A) = ∫ f_B(x) F_A(x) dx, F_A being A's posterior CDF, is computed three ways:
// Monte Carlo (share of paired draws with b > a), adaptive Simpson on that integral, and
// an exact finite sum (valid for integer α_B). The 95 % credible interval of the relative
// lift p_B/p_A − 1 comes from the draws; the frequentist two-proportion z-test is beside it.
import CohortCalculus
import CohortProbability
import CohortStats
import CohortTensor
import Foundation

func bayesianABTest(_ options: ExampleOptions) throws {
    let a = (conversions: 120, visitors: 1000), b = (conversions: 150, visitors: 1000)
    let prior = try BetaBinomialModel(alpha: 1, beta: 1)
    let postA = try prior.posterior(successes: a.conversions, trials: a.visitors)
    let postB = try prior.posterior(successes: b.conversions, trials: b.visitors)
    print("A: \(a.conversions)/\(a.visitors) → posterior Beta(\(Int(postA.alpha)), \(Int(postA.beta))), mean \(fixed(postA.mean))")
    print("B: \(b.conversions)/\(b.visitors) → posterior Beta(\(Int(postB.alpha)), \(Int(postB.beta))), mean \(fixed(postB.mean))")

    // 1. Monte Carlo: draw both rates, count how often B's is larger. Standard error sqrt(p(1 − p)/N).
    let draws = 200_000
    var generator = RandomGenerator(seed: 2024)
    let ra = try CohortProbability.Beta(alpha: Float(postA.alpha), beta: Float(postA.beta)).sample(draws, generator: &generator).scalars
    let rb = try CohortProbability.Beta(alpha: Float(postB.alpha), beta: Float(postB.beta)).sample(draws, generator: &generator).scalars
    let pMC = Double(zip(ra, rb).filter { $0.1 > $0.0 }.count) / Double(draws)
    let seMC = (pMC * (1 - pMC) / Double(draws)).squareRoot()

    // 2. Quadrature of f_B(x) · F_A(x). Both posteriors are narrow (sd ≈ 0.01), so integrate
    //    between their 1e-12 and 1 − 1e-12 quantiles: outside, the integrand is below 1e-12.
    func density(_ m: BetaBinomialModel, _ x: Double) -> Double {
        x <= 0 || x >= 1 ? 0 : exp((m.alpha - 1) * log(x) + (m.beta - 1) * log1p(-x) - logBeta(m.alpha, m.beta))
    }
    let lower = min(try inverseRegularizedIncompleteBeta(postA.alpha, postA.beta, p: 1e-12),
                    try inverseRegularizedIncompleteBeta(postB.alpha, postB.beta, p: 1e-12))
    let upper = max(try inverseRegularizedIncompleteBeta(postA.alpha, postA.beta, p: 1 - 1e-12),
                    try inverseRegularizedIncompleteBeta(postB.alpha, postB.beta, p: 1 - 1e-12))
    let quadrature = try Integration.adaptiveSimpson({ x in
        density(postB, x) * regularizedIncompleteBeta(postA.alpha, postA.beta, x: x)
    }, from: lower, to: upper, tolerance: 1e-12)
    let massB = try Integration.adaptiveSimpson({ density(postB, $0) }, from: lower, to: upper, tolerance: 1e-12).value

    // 3. Exact: P(p_B > p_A) = Σ_{i<α_B} B(α_A + i, β_A + β_B) / ((β_B + i) B(1 + i, β_B) B(α_A, β_A)).
    let exact = (0..<Int(postB.alpha)).reduce(0.0) { sum, i in
        let i = Double(i)
        return sum + exp(logBeta(postA.alpha + i, postA.beta + postB.beta) - log(postB.beta + i)
            - logBeta(1 + i, postB.beta) - logBeta(postA.alpha, postA.beta))
    }
    print("\nP(B > A):")
    print("  Monte Carlo, \(draws) draws   \(fixed(pMC, 5)) ± \(fixed(seMC, 5)) (standard error)")
    print("  adaptive Simpson            \(fixed(quadrature.value, 8)) (\(quadrature.evaluations) evaluations on [\(fixed(lower, 3)), \(fixed(upper, 3))], ∫f_B = \(fixed(massB, 10)))")
    print("  exact sum                   \(fixed(exact, 8))")

    // Relative lift p_B/p_A − 1: posterior mean and the equal-tailed 95 % credible interval.
    let lift = zip(ra, rb).map { Double($0.1) / Double($0.0) - 1 }
    let liftLow = try quantile(lift, p: 0.025), liftHigh = try quantile(lift, p: 0.975)
    let observedLift = (Double(b.conversions) / Double(b.visitors)) / (Double(a.conversions) / Double(a.visitors)) - 1
    print("\nlift p_B/p_A − 1: posterior mean \(fixed(lift.reduce(0, +) / Double(draws), 3)), 95 % credible interval [\(fixed(liftLow)), \(fixed(liftHigh))] (observed \(fixed(observedLift, 3)))")
    print("  its lower end is ≈ 0 because P(lift < 0) = P(B < A) ≈ 0.025, the tail the interval leaves out")

    // The frequentist view: H₀ p_A = p_B, pooled two-proportion z-test.
    let twoSided = try twoProportionZTest(successes1: b.conversions, trials1: b.visitors, successes2: a.conversions, trials2: a.visitors)
    let oneSided = try twoProportionZTest(successes1: b.conversions, trials1: b.visitors, successes2: a.conversions,
                                          trials2: a.visitors, alternative: .greater)
    print("two-proportion z-test: z = \(fixed(twoSided.statistic, 3)), p = \(fixed(twoSided.pValue)) (two-sided), \(fixed(oneSided.pValue)) (one-sided, B > A)")
    print("  Bayesian 1 − P(B > A) = \(fixed(1 - exact)) ≈ the one-sided p-value: with flat priors and this much data they nearly coincide")

    // Checks: the three computations agree, the interval brackets the observed lift.
    try check(abs(pMC - quadrature.value) < 4 * seMC, "Monte Carlo \(pMC) and quadrature \(quadrature.value) differ by more than 4 standard errors")
    try check(abs(quadrature.value - exact) < 1e-8, "quadrature \(quadrature.value) and the exact sum \(exact) differ")
    try check(abs(massB - 1) < 1e-8, "the posterior density of B integrates to \(massB), not 1")
    try check(liftLow < observedLift && observedLift < liftHigh, "the credible interval misses the observed lift")
    try check(abs((1 - exact) - oneSided.pValue) < 0.01, "1 − P(B > A) and the one-sided p-value differ by more than 0.01")
    print("checks passed: Monte Carlo, quadrature and the exact sum agree")
}
