// Bayesian linear regression y = Xw + ε, ε ~ N(0, σ²) with σ² known and a
// Normal prior w ~ N(m₀, S₀): the posterior is Normal with precision
// S₀⁻¹ + XᵀX/σ² and mean S (S₀⁻¹m₀ + Xᵀy/σ²), solved here by Cholesky.
import CohortCore

/// The posterior over the weights of a linear model with Gaussian prior and known noise.
public struct BayesianLinearRegression: Sendable {
    /// The posterior mean of the weights [p].
    public let posteriorMean: [Double]
    /// The posterior covariance of the weights [p × p].
    public let posteriorCovariance: [[Double]]
    /// The known noise variance σ².
    public let noiseVariance: Double

    /// Fits the posterior from `features` (n × p, one row per observation) and `targets` [n].
    /// The prior mean defaults to zeros. Throws for mismatched shapes, non-finite values, σ² ≤ 0 or a
    /// prior covariance that is not symmetric positive definite.
    public init(features: [[Double]], targets: [Double], priorMean: [Double]? = nil, priorCovariance: [[Double]],
                noiseVariance: Double) throws {
        let p = priorCovariance.count
        guard noiseVariance.isFinite, noiseVariance > 0 else {
            throw CohortError.invalidArgument("BayesianLinearRegression: noiseVariance must be finite and > 0, got \(noiseVariance)")
        }
        guard features.count == targets.count else {
            throw CohortError.shapeMismatch(op: "BayesianLinearRegression", "\(features.count) feature rows but \(targets.count) targets")
        }
        for (i, row) in features.enumerated() {
            guard row.count == p else {
                throw CohortError.shapeMismatch(op: "BayesianLinearRegression", "feature row \(i) has \(row.count) values, the prior has \(p) weights")
            }
            guard row.allSatisfy(\.isFinite), targets[i].isFinite else {
                throw CohortError.invalidArgument("BayesianLinearRegression: row \(i) holds a NaN or infinite value")
            }
        }
        let m0 = priorMean ?? [Double](repeating: 0, count: p)
        guard m0.count == p else {
            throw CohortError.shapeMismatch(op: "BayesianLinearRegression", "prior mean has \(m0.count) values, the covariance is \(p) x \(p)")
        }
        let priorFactor = try CholeskyFactor.of(priorCovariance, "BayesianLinearRegression prior covariance")
        var precision = CholeskyFactor.inverse(priorFactor)
        var rhs = CholeskyFactor.solve(priorFactor, m0)
        for (row, y) in zip(features, targets) {
            for i in 0..<p {
                rhs[i] += row[i] * y / noiseVariance
                for j in 0..<p { precision[i][j] += row[i] * row[j] / noiseVariance }
            }
        }
        let factor = try CholeskyFactor.of(precision, "BayesianLinearRegression posterior precision")
        posteriorMean = CholeskyFactor.solve(factor, rhs)
        posteriorCovariance = CholeskyFactor.inverse(factor)
        self.noiseVariance = noiseVariance
    }

    /// The posterior predictive mean xᵀm and variance σ² + xᵀSx at feature row `x` [p].
    public func predict(_ x: [Double]) throws -> (mean: Double, variance: Double) {
        guard x.count == posteriorMean.count else {
            throw CohortError.shapeMismatch(op: "BayesianLinearRegression.predict", "\(x.count) features for \(posteriorMean.count) weights")
        }
        var mean = 0.0, variance = noiseVariance
        for i in x.indices {
            mean += x[i] * posteriorMean[i]
            for j in x.indices { variance += x[i] * posteriorCovariance[i][j] * x[j] }
        }
        return (mean, variance)
    }
}
