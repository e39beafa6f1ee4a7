// A chain of MCMC draws and its diagnostics: acceptance rate, effective sample
// size (Geyer's initial monotone sequence estimator on the autocorrelations) and
// the Monte Carlo standard error sd/√ESS of a posterior mean.
import CohortCore

/// The draws an MCMC sampler kept after warm-up, with how it behaved.
public struct MCMCChain: Sendable {
    /// The kept draws, one [dimension] array per draw.
    public let samples: [[Double]]
    /// The fraction of kept iterations whose proposal was accepted (HMC: the mean acceptance probability).
    public let acceptanceRate: Double
    /// The step size used after warm-up (HMC leapfrog ε, or the random-walk proposal scale).
    public let stepSize: Double
    /// Proposals rejected because the log density or its gradient was not finite.
    public let divergences: Int

    /// Coordinate `dimension` of every draw.
    public func values(_ dimension: Int) -> [Double] { samples.map { $0[dimension] } }
    /// The posterior mean estimate of coordinate `dimension`.
    public func mean(_ dimension: Int) -> Double { MCMC.mean(values(dimension)) }
    /// The effective sample size of coordinate `dimension`.
    public func effectiveSampleSize(_ dimension: Int) -> Double { MCMC.effectiveSampleSize(values(dimension)) }
    /// The Monte Carlo standard error of `mean(dimension)`.
    public func monteCarloStandardError(_ dimension: Int) -> Double { MCMC.monteCarloStandardError(values(dimension)) }
}

/// Diagnostics for any series of correlated draws.
public enum MCMC {
    /// The arithmetic mean (0 for an empty series).
    public static func mean(_ x: [Double]) -> Double { x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count) }

    /// The effective sample size n / τ, τ = −1 + 2 Σₜ Γₜ with Γₜ = ρ₂ₜ + ρ₂ₜ₊₁ summed while positive and
    /// forced non-increasing (Geyer 1992). A constant series returns n; fewer than 4 draws return their count.
    public static func effectiveSampleSize(_ x: [Double]) -> Double {
        let n = x.count
        guard n >= 4 else { return Double(n) }
        let m = mean(x)
        let centred = x.map { $0 - m }
        let c0 = centred.reduce(0) { $0 + $1 * $1 } / Double(n)
        guard c0 > 0 else { return Double(n) }
        func rho(_ k: Int) -> Double {
            var s = 0.0
            for i in 0..<(n - k) { s += centred[i] * centred[i + k] }
            return s / Double(n) / c0
        }
        var tau = -1.0, previous = Double.infinity, t = 0
        while 2 * t + 1 < n {
            var gamma = rho(2 * t) + rho(2 * t + 1)
            if gamma <= 0 { break }
            gamma = Swift.min(gamma, previous)
            tau += 2 * gamma
            previous = gamma
            t += 1
        }
        return Double(n) / Swift.max(tau, 1e-3)
    }

    /// The Monte Carlo standard error of the mean: sample sd / √ESS.
    public static func monteCarloStandardError(_ x: [Double]) -> Double {
        guard x.count >= 2 else { return .infinity }
        let m = mean(x)
        let variance = x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1)
        return (variance / effectiveSampleSize(x)).squareRoot()
    }
}
