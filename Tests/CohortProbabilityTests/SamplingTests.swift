// Seeded sampling against the analytic distributions: the mean and variance of
// 10⁵ draws within 5 standard errors of the true moments, the Kolmogorov–Smirnov
// statistic against the CDF for continuous distributions (below 1.95/√n, the 0.1 %
// critical value), and a χ² goodness-of-fit test of the frequencies for discrete ones.
import Foundation
import Testing
import CohortProbability
import CohortStats
import CohortTensor

@Suite struct SamplingTests {
    static let n = 100_000

    /// Mean and variance of `draws` within 5 standard errors of the distribution's moments.
    func checkMoments(_ d: any UnivariateDistribution, _ draws: [Double], _ label: String) throws {
        let mu = Double(try d.mean.item()), variance = Double(try d.variance.item())
        let n = Double(draws.count)
        let m = draws.reduce(0, +) / n
        let s2 = draws.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)
        let m4 = draws.reduce(0) { let c = $1 - m; return $0 + c * c * c * c } / n
        let seMean = (variance / n).squareRoot(), seVariance = ((m4 - s2 * s2) / n).squareRoot()
        #expect(abs(m - mu) < 5 * seMean, "\(label): sample mean \(m) vs \(mu) (se \(seMean))")
        #expect(abs(s2 - variance) < 5 * seVariance, "\(label): sample variance \(s2) vs \(variance) (se \(seVariance))")
    }

    @Test(arguments: [
        ("Normal", 0), ("Uniform", 1), ("Exponential", 2), ("Gamma small shape", 3), ("Gamma", 4),
        ("Beta", 5), ("Beta U-shaped", 6), ("StudentT", 7),
    ])
    func continuousSamplesMatchTheirDistribution(label: String, index: Int) throws {
        let distributions: [any UnivariateDistribution] = [
            try Normal(loc: 1.5, scale: 0.7), try Uniform(low: -1, high: 3), try Exponential(rate: 2.5),
            try Gamma(concentration: 0.3, rate: 2), try Gamma(concentration: 7.5, rate: 0.5), try Beta(alpha: 2, beta: 5),
            try Beta(alpha: 0.4, beta: 0.6), try StudentT(degreesOfFreedom: 6, loc: 1, scale: 2),
        ]
        let d = distributions[index]
        var g = RandomGenerator(seed: 1000 + UInt64(index))
        let sample = try d.sample(Self.n, generator: &g)
        let draws = sample.scalars.map { Double($0) }
        try checkMoments(d, draws, label)
        // Kolmogorov–Smirnov: sup |F_n(x) − F(x)| over the sorted draws.
        let sorted = draws.sorted()
        let cdf = try d.cdf(try Tensor(sorted.map { Float($0) }, shape: [sorted.count])).scalars
        var ks = 0.0
        for (i, f) in cdf.enumerated() {
            ks = max(ks, abs(Double(i + 1) / Double(Self.n) - Double(f)), abs(Double(f) - Double(i) / Double(Self.n)))
        }
        #expect(ks < 1.95 / Double(Self.n).squareRoot(), "\(label): KS statistic \(ks)")
    }

    @Test(arguments: [("Poisson small", 0), ("Poisson PTRS", 1), ("Binomial inversion", 2), ("Binomial splitting", 3), ("Bernoulli", 4)])
    func discreteSamplesMatchTheirDistribution(label: String, index: Int) throws {
        let distributions: [any UnivariateDistribution] = [
            try Poisson(rate: 3.5), try Poisson(rate: 250), try Binomial(totalCount: 12, probs: Tensor.full([], 0.3)),
            try Binomial(totalCount: 5000, probs: Tensor.full([], 0.37)), try Bernoulli(probs: Tensor.full([], 0.2)),
        ]
        let d = distributions[index]
        var g = RandomGenerator(seed: 2000 + UInt64(index))
        let draws = try d.sample(Self.n, generator: &g).scalars.map { Double($0) }
        try checkMoments(d, draws, label)
        // χ² goodness of fit over the values with expected count ≥ 5, the rest pooled into two tails.
        let lo = draws.min()!, hi = draws.max()!
        let support = Array(stride(from: lo, through: hi, by: 1))
        let pmf = try d.logProb(try Tensor(support.map { Float($0) }, shape: [support.count])).scalars.map { exp(Double($0)) }
        var observed: [Double] = [], expected: [Double] = [], pendingO = 0.0, pendingE = 0.0
        var counts = [Double: Double]()
        for x in draws { counts[x, default: 0] += 1 }
        let below = Double(try d.cdf(Tensor.full([], Float(lo - 1))).item())
        pendingE = below * Double(Self.n)
        for (x, p) in zip(support, pmf) {
            pendingO += counts[x] ?? 0; pendingE += p * Double(Self.n)
            if pendingE >= 5 { observed.append(pendingO); expected.append(pendingE); pendingO = 0; pendingE = 0 }
        }
        let above = (1 - Double(try d.cdf(Tensor.full([], Float(hi))).item())) * Double(Self.n)
        if observed.isEmpty { observed.append(pendingO); expected.append(pendingE + above) }
        else { observed[observed.count - 1] += pendingO; expected[expected.count - 1] += pendingE + above }
        let scale = observed.reduce(0, +) / expected.reduce(0, +)   // absorb Float32 rounding of the pmf
        let test = try chiSquareGoodnessOfFit(observed: observed, expected: expected.map { $0 * scale })
        #expect(test.pValue > 1e-4, "\(label): χ² = \(test.statistic) on \(test.degreesOfFreedom ?? 0) df, p = \(test.pValue)")
    }

    @Test func multivariateNormalSampleCovariance() throws {
        let cov = [[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]]
        let d = try MultivariateNormal(loc: try Tensor([1, -1, 0.5], shape: [3]), covariance: cov)
        var g = RandomGenerator(seed: 3)
        let x = try d.sample(Self.n, generator: &g).scalars.map { Double($0) }
        let rows = (0..<Self.n).map { Array(x[($0 * 3)..<($0 * 3 + 3)]) }
        let sampleCov = try covarianceMatrix(rows)
        for i in 0..<3 {
            let m = rows.reduce(0) { $0 + $1[i] } / Double(Self.n)
            #expect(abs(m - [1, -1, 0.5][i]) < 5 * (cov[i][i] / Double(Self.n)).squareRoot())
            for j in 0..<3 {
                // se of a sample covariance ≈ √((σᵢᵢσⱼⱼ + σᵢⱼ²)/n) for normal data.
                let se = ((cov[i][i] * cov[j][j] + cov[i][j] * cov[i][j]) / Double(Self.n)).squareRoot()
                #expect(abs(sampleCov[i][j] - cov[i][j]) < 5 * se, "cov[\(i)][\(j)] \(sampleCov[i][j])")
            }
        }
    }

    @Test func samplingIsSeeded() throws {
        var a = RandomGenerator(seed: 9), b = RandomGenerator(seed: 9)
        let d = try Gamma(concentration: 0.7, rate: 1)
        #expect(try d.sample(100, generator: &a).scalars == d.sample(100, generator: &b).scalars)
    }
}
