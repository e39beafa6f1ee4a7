// Bernoulli, Binomial and Poisson: counts as Float tensors. Bernoulli and Binomial
// are parameterised by logits (log-odds) so log-probabilities stay finite and
// differentiable; a value outside the support is a thrown error naming its element.
#if canImport(Glibc)
import Glibc
#endif
import CohortCore
import CohortStats
import CohortTensor

/// The Bernoulli distribution on {0, 1} with P(1) = sigmoid(logits).
public struct Bernoulli: UnivariateDistribution {
    /// The log-odds log(p / (1 − p)).
    public let logits: Tensor
    public var batchShape: [Int] { logits.shape }
    public var eventShape: [Int] { [] }

    /// Bernoulli with log-odds `logits` (any finite values).
    public init(logits: Tensor) throws {
        try checkParameter(logits, "Bernoulli", "logits", "finite") { $0.isFinite }
        self.logits = logits
    }

    /// Bernoulli with success probabilities `probs` in (0, 1) (stored as logits, differentiably).
    public init(probs: Tensor) throws {
        try checkParameter(probs, "Bernoulli", "probs", "in (0, 1)") { $0 > 0 && $0 < 1 }
        try self.init(logits: try probs.log() - (1 - probs).log())
    }

    /// The success probabilities sigmoid(logits).
    public var probs: Tensor { logits.sigmoid() }

    public func sample(_ count: Int, generator: inout RandomGenerator) throws -> Tensor {
        try drawScalars(count, [logits], shape: batchShape, "Bernoulli", generator: &generator) { g, p in
            g.nextDouble() < 1 / (1 + exp(-p[0])) ? 1 : 0
        }
    }

    /// x·l − softplus(l) for x in {0, 1}.
    public func logProb(_ value: Tensor) throws -> Tensor {
        try checkIntegers(value, "Bernoulli", "0 or 1") { $0 == 0 || $0 == 1 }
        return try value * logits - softplus(logits)
    }

    public var mean: Tensor { get throws { probs } }
    public var variance: Tensor { get throws { let p = probs; return try p * (1 - p) } }
    /// softplus(l) − l·sigmoid(l).
    public func entropy() throws -> Tensor { try softplus(logits) - logits * probs }

    public func cdf(_ x: Tensor) throws -> Tensor {
        try mapDoubles([x, logits], "Bernoulli.cdf") { $0[0] < 0 ? 0 : ($0[0] < 1 ? 1 / (1 + exp($0[1])) : 1) }
    }

    public func quantile(_ p: Tensor) throws -> Tensor {
        try mapDoubles([p, logits], "Bernoulli.quantile") { v in
            try checkProbability(v[0], "Bernoulli.quantile")
            return v[0] <= 1 / (1 + exp(v[1])) ? 0 : 1
        }
    }
}

/// The binomial distribution: successes in `totalCount` trials with P(success) = sigmoid(logits).
public struct Binomial: UnivariateDistribution {
    /// The number of trials n ≥ 0.
    public let totalCount: Int
    /// The log-odds of one success.
    public let logits: Tensor
    public var batchShape: [Int] { logits.shape }
    public var eventShape: [Int] { [] }

    /// Binomial(n = `totalCount`, p = sigmoid(`logits`)); throws for n < 0 or non-finite logits.
    public init(totalCount: Int, logits: Tensor) throws {
        guard totalCount >= 0 else { throw CohortError.invalidArgument("Binomial: totalCount must be >= 0, got \(totalCount)") }
        try checkParameter(logits, "Binomial", "logits", "finite") { $0.isFinite }
        self.totalCount = totalCount; self.logits = logits
    }

    /// Binomial(n, `probs`) with probabilities in (0, 1).
    public init(totalCount: Int, probs: Tensor) throws {
        try checkParameter(probs, "Binomial", "probs", "in (0, 1)") { $0 > 0 && $0 < 1 }
        try self.init(totalCount: totalCount, logits: try probs.log() - (1 - probs).log())
    }

    /// The success probabilities sigmoid(logits).
    public var probs: Tensor { logits.sigmoid() }

    public func sample(_ count: Int, generator: inout RandomGenerator) throws -> Tensor {
        let n = Double(totalCount)
        return try drawScalars(count, [logits], shape: batchShape, "Binomial", generator: &generator) { g, p in
            Variates.binomial(n, 1 / (1 + exp(-p[0])), &g)
        }
    }

    /// log C(n, k) + k·l − n·softplus(l) for integer k in 0…n.
    public func logProb(_ value: Tensor) throws -> Tensor {
        let n = Float(totalCount)
        try checkIntegers(value, "Binomial", "0...\(totalCount)") { $0 >= 0 && $0 <= n }
        let logChoose = try mapDoubles([value], "Binomial.logProb") {
            CohortStats.logGamma(Double(n) + 1) - CohortStats.logGamma($0[0] + 1) - CohortStats.logGamma(Double(n) - $0[0] + 1)
        }
        return try logChoose + value * logits - softplus(logits) * n
    }

    public var mean: Tensor { get throws { try probs * Float(totalCount) } }
    public var variance: Tensor { get throws { let p = probs; return try p * (1 - p) * Float(totalCount) } }

    /// −Σₖ P(k) log P(k), summed exactly over k = 0…n in Double (not differentiable).
    public func entropy() throws -> Tensor {
        let n = Double(totalCount)
        return try mapDoubles([logits], "Binomial.entropy") { v in
            let logP = -log1p(exp(-v[0])), logQ = -log1p(exp(v[0]))
            var h = 0.0
            for k in 0...totalCount {
                let kd = Double(k)
                let lp = CohortStats.logGamma(n + 1) - CohortStats.logGamma(kd + 1) - CohortStats.logGamma(n - kd + 1)
                    + kd * logP + (n - kd) * logQ
                h -= exp(lp) * lp
            }
            return h
        }
    }

    /// P(X ≤ k) = I_{1−p}(n − k, k + 1).
    public func cdf(_ x: Tensor) throws -> Tensor {
        let n = Double(totalCount)
        return try mapDoubles([x, logits], "Binomial.cdf") { v in
            let k = v[0].rounded(.down)
            if k < 0 { return 0 }
            if k >= n { return 1 }
            let p = 1 / (1 + exp(-v[1]))
            return regularizedIncompleteBeta(n - k, k + 1, x: 1 - p, y: p)
        }
    }

    public func quantile(_ p: Tensor) throws -> Tensor {
        let n = Double(totalCount)
        return try mapDoubles([p, logits], "Binomial.quantile") { v in
            try checkProbability(v[0], "Binomial.quantile")
            let prob = 1 / (1 + exp(-v[1]))
            return discreteQuantile(v[0], upper: n) { k in k >= n ? 1 : regularizedIncompleteBeta(n - k, k + 1, x: 1 - prob, y: prob) }
        }
    }
}

/// The Poisson distribution with rate λ > 0 on {0, 1, 2, …}.
public struct Poisson: UnivariateDistribution {
    /// The rate (mean) λ.
    public let rate: Tensor
    public var batchShape: [Int] { rate.shape }
    public var eventShape: [Int] { [] }

    /// Poisson(`rate`); throws unless every rate is finite and > 0.
    public init(rate: Tensor) throws {
        try checkParameter(rate, "Poisson", "rate", "finite and > 0") { $0.isFinite && $0 > 0 }
        self.rate = rate
    }

    /// Poisson with a scalar rate.
    public init(rate: Float) throws { try self.init(rate: Tensor.full([], rate)) }

    public func sample(_ count: Int, generator: inout RandomGenerator) throws -> Tensor {
        try drawScalars(count, [rate], shape: batchShape, "Poisson", generator: &generator) { g, p in Variates.poisson(p[0], &g) }
    }

    /// k log λ − λ − log k! for integer k ≥ 0.
    public func logProb(_ value: Tensor) throws -> Tensor {
        try checkIntegers(value, "Poisson", "0, 1, 2, ...") { $0 >= 0 }
        let logFactorial = try mapDoubles([value], "Poisson.logProb") { CohortStats.logGamma($0[0] + 1) }
        return try value * rate.log() - rate - logFactorial
    }

    public var mean: Tensor { get throws { rate } }
    public var variance: Tensor { get throws { rate } }

    /// −Σₖ P(k) log P(k), summed in Double over k ≤ λ + 40√λ + 40 (not differentiable).
    public func entropy() throws -> Tensor {
        try mapDoubles([rate], "Poisson.entropy") { v in
            let lambda = v[0], upper = Int(lambda + 40 * lambda.squareRoot() + 40)
            var h = 0.0
            for k in 0...upper {
                let lp = Double(k) * log(lambda) - lambda - CohortStats.logGamma(Double(k) + 1)
                h -= exp(lp) * lp
            }
            return h
        }
    }

    /// P(X ≤ k) = Q(k + 1, λ).
    public func cdf(_ x: Tensor) throws -> Tensor {
        try mapDoubles([x, rate], "Poisson.cdf") { v in
            let k = v[0].rounded(.down)
            return k < 0 ? 0 : regularizedGammaQ(k + 1, v[1])
        }
    }

    public func quantile(_ p: Tensor) throws -> Tensor {
        try mapDoubles([p, rate], "Poisson.quantile") { v in
            try checkProbability(v[0], "Poisson.quantile")
            return discreteQuantile(v[0], upper: .infinity) { regularizedGammaQ($0 + 1, v[1]) }
        }
    }
}

/// The smallest integer k in 0…upper with cdf(k) ≥ p: doubling, then bisection.
func discreteQuantile(_ p: Double, upper: Double, _ cdf: (Double) -> Double) -> Double {
    if p == 0 { return 0 }
    if p == 1 && upper == .infinity { return .infinity }
    var hi = 1.0
    while hi < upper && cdf(hi) < p { hi *= 2 }
    hi = Swift.min(hi, upper)
    var lo = -1.0   // cdf(lo) < p by convention
    while hi - lo > 1 {
        let mid = ((lo + hi) / 2).rounded(.down)
        if cdf(mid) >= p { hi = mid } else { lo = mid }
    }
    return hi
}
