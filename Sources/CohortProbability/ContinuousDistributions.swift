// Uniform and Exponential: two small continuous distributions with closed-form
// CDFs and quantiles. Values outside the support have log-probability −∞.
#if canImport(Glibc)
import Glibc
#endif
import CohortCore
import CohortTensor

/// The continuous uniform distribution on [low, high), low < high.
public struct Uniform: UnivariateDistribution {
    /// The lower end (included).
    public let low: Tensor
    /// The upper end (excluded).
    public let high: Tensor
    public let batchShape: [Int]
    public var eventShape: [Int] { [] }

    /// U[`low`, `high`); throws unless low < high elementwise (both finite).
    public init(low: Tensor, high: Tensor) throws {
        batchShape = try CohortProbability.batchShape(of: [low, high], "Uniform")
        let l = try broadcastValues(low, to: batchShape), h = try broadcastValues(high, to: batchShape)
        for i in l.indices where !(l[i].isFinite && h[i].isFinite && l[i] < h[i]) {
            throw CohortError.invalidArgument("Uniform: need finite low < high, got low \(l[i]), high \(h[i]) (element \(i))")
        }
        self.low = low; self.high = high
    }

    /// U[`low`, `high`) with scalar parameters.
    public init(low: Float, high: Float) throws { try self.init(low: Tensor.full([], low), high: Tensor.full([], high)) }

    public func sample(_ count: Int, generator: inout RandomGenerator) throws -> Tensor {
        try drawScalars(count, [low, high], shape: batchShape, "Uniform", generator: &generator) { g, p in
            p[0] + (p[1] - p[0]) * g.nextDouble()
        }
    }

    /// −log(high − low) inside [low, high), −∞ outside.
    public func logProb(_ value: Tensor) throws -> Tensor {
        let density = try (high - low).log() * -1 + value * 0
        let l = try broadcastValues(low, to: density.shape), h = try broadcastValues(high, to: density.shape)
        let x = try broadcastValues(value, to: density.shape)
        let inside = try Tensor(x.indices.map { x[$0] >= l[$0] && x[$0] < h[$0] ? 1 : 0 }, shape: density.shape)
        return try Tensor.where(inside, density, constant(-.infinity, density.shape))
    }

    public var mean: Tensor { get throws { try (low + high) * 0.5 } }
    public var variance: Tensor { get throws { try (high - low).square() / 12 } }
    public func entropy() throws -> Tensor { try (high - low).log() }

    public func cdf(_ x: Tensor) throws -> Tensor {
        try mapDoubles([x, low, high], "Uniform.cdf") { Swift.min(1, Swift.max(0, ($0[0] - $0[1]) / ($0[2] - $0[1]))) }
    }

    public func quantile(_ p: Tensor) throws -> Tensor {
        try mapDoubles([p, low, high], "Uniform.quantile") { v in
            try checkProbability(v[0], "Uniform.quantile")
            return v[1] + v[0] * (v[2] - v[1])
        }
    }
}

/// The exponential distribution with rate λ > 0 (mean 1/λ).
public struct Exponential: UnivariateDistribution {
    /// The rate λ.
    public let rate: Tensor
    public var batchShape: [Int] { rate.shape }
    public var eventShape: [Int] { [] }

    /// Exp(`rate`); throws unless every rate is finite and > 0.
    public init(rate: Tensor) throws {
        try checkParameter(rate, "Exponential", "rate", "finite and > 0") { $0.isFinite && $0 > 0 }
        self.rate = rate
    }

    /// Exp(`rate`) with a scalar rate.
    public init(rate: Float) throws { try self.init(rate: Tensor.full([], rate)) }

    /// Inversion: −log(U)/λ with U in (0, 1).
    public func sample(_ count: Int, generator: inout RandomGenerator) throws -> Tensor {
        try drawScalars(count, [rate], shape: batchShape, "Exponential", generator: &generator) { g, p in
            -log(Variates.openUniform(&g)) / p[0]
        }
    }

    /// log λ − λx for x ≥ 0, −∞ for x < 0.
    public func logProb(_ value: Tensor) throws -> Tensor {
        try maskSupport(try rate.log() - rate * value, value) { $0 >= 0 }
    }

    public var mean: Tensor { get throws { rate.reciprocal() } }
    public var variance: Tensor { get throws { rate.square().reciprocal() } }
    /// 1 − log λ.
    public func entropy() throws -> Tensor { try 1 - rate.log() }

    public func cdf(_ x: Tensor) throws -> Tensor {
        try mapDoubles([x, rate], "Exponential.cdf") { $0[0] <= 0 ? 0 : -expm1(-$0[1] * $0[0]) }
    }

    public func quantile(_ p: Tensor) throws -> Tensor {
        try mapDoubles([p, rate], "Exponential.quantile") { v in
            try checkProbability(v[0], "Exponential.quantile")
            return -log1p(-v[0]) / v[1]
        }
    }
}

/// Throws unless `p` is in [0, 1].
func checkProbability(_ p: Double, _ function: String) throws {
    guard p >= 0, p <= 1 else { throw CohortError.invalidArgument("\(function): p must be in [0, 1], got \(p)") }
}
