// Hamiltonian Monte Carlo (leapfrog integrator, identity mass matrix) with the
// gradient of log p from autograd, and optional dual-averaging step-size
// adaptation during warm-up (Hoffman & Gelman 2014, §3.2). Positions are kept in
// Double; the log density is evaluated on Float32 tensors.
#if canImport(Glibc)
import Glibc
#endif
import CohortCore
import CohortTensor

/// An HMC sampler: `leapfrogSteps` steps of size `stepSize` per proposal.
public struct HamiltonianMonteCarlo: Sendable {
    /// The leapfrog step size ε (the starting value when adapting).
    public var stepSize: Double
    /// Leapfrog steps per proposal L.
    public var leapfrogSteps: Int
    /// Whether warm-up tunes ε by dual averaging towards `targetAcceptance`.
    public var adaptStepSize: Bool
    /// The mean acceptance probability adaptation aims for.
    public var targetAcceptance: Double
    /// After warm-up each iteration uses ε·(1 + j·(2u − 1)), u uniform: a fixed trajectory length can
    /// resonate with a Gaussian's period and barely move along some directions.
    public var stepSizeJitter: Double

    /// A sampler; throws unless ε > 0, L ≥ 1, the target is in (0, 1) and the jitter in [0, 1).
    public init(stepSize: Double = 0.1, leapfrogSteps: Int = 10, adaptStepSize: Bool = true, targetAcceptance: Double = 0.8,
                stepSizeJitter: Double = 0.2) throws {
        guard stepSize > 0, stepSize.isFinite, leapfrogSteps >= 1, targetAcceptance > 0, targetAcceptance < 1,
              stepSizeJitter >= 0, stepSizeJitter < 1 else {
            throw CohortError.invalidArgument("HamiltonianMonteCarlo: need stepSize > 0, leapfrogSteps >= 1, targetAcceptance in (0, 1) and stepSizeJitter in [0, 1), got \(stepSize), \(leapfrogSteps), \(targetAcceptance), \(stepSizeJitter)")
        }
        self.stepSizeJitter = stepSizeJitter
        self.stepSize = stepSize; self.leapfrogSteps = leapfrogSteps
        self.adaptStepSize = adaptStepSize; self.targetAcceptance = targetAcceptance
    }

    /// Runs `warmup` + `samples` iterations from `initial` and keeps the last `samples` draws.
    ///
    /// `logDensity` maps a position tensor [d] to a scalar log p (up to a constant) built from tensor
    /// ops, so autograd gives ∇ log p. A proposal whose log density or gradient is not finite is
    /// rejected and counted as a divergence. Throws for an empty or non-finite start, a start where
    /// log p is not finite, or a log density that is not a scalar.
    public func sample(initial: [Double], samples: Int, warmup: Int = 500, generator: inout RandomGenerator,
                       logDensity: (Tensor) throws -> Tensor) throws -> MCMCChain {
        try validateStart(initial, samples: samples, warmup: warmup, "HamiltonianMonteCarlo")
        let d = initial.count
        func evaluate(_ q: [Double]) throws -> (Double, [Double]) {
            let x = try Tensor(q.map { Float($0) }, shape: [d], requiresGrad: true)
            let lp = try logDensity(x)
            guard lp.count == 1 else {
                throw CohortError.shapeMismatch(op: "HamiltonianMonteCarlo", "logDensity must return a scalar, got \(describeShape(lp.shape))")
            }
            guard lp.requiresGrad else { return (Double(try lp.item()), [Double](repeating: 0, count: d)) }
            try lp.backward()
            return (Double(try lp.item()), (x.grad?.scalars ?? []).map { Double($0) })
        }
        var q = initial
        var (lp, grad) = try evaluate(q)
        guard lp.isFinite else { throw CohortError.invalidArgument("HamiltonianMonteCarlo: log density at the initial point is \(lp)") }
        var epsilon = stepSize
        // Dual-averaging state.
        let mu = log(10 * stepSize), gamma = 0.05, t0 = 10.0, kappa = 0.75
        var hBar = 0.0, logEpsilonBar = 0.0
        var kept: [[Double]] = [], acceptSum = 0.0, divergences = 0
        kept.reserveCapacity(samples)
        for iteration in 0..<(warmup + samples) {
            let momentum = (0..<d).map { _ in Variates.normal(&generator) }
            let eps = iteration >= warmup ? epsilon * (1 + stepSizeJitter * (2 * generator.nextDouble() - 1)) : epsilon
            var qNew = q, p = momentum, lpNew = lp, gNew = grad, diverged = false
            for i in 0..<d { p[i] += 0.5 * eps * gNew[i] }
            for step in 0..<leapfrogSteps {
                for i in 0..<d { qNew[i] += eps * p[i] }
                (lpNew, gNew) = try evaluate(qNew)
                if !lpNew.isFinite || gNew.contains(where: { !$0.isFinite }) { diverged = true; break }
                let scale = step == leapfrogSteps - 1 ? 0.5 : 1.0
                for i in 0..<d { p[i] += scale * eps * gNew[i] }
            }
            var acceptProbability = 0.0
            if !diverged {
                let h0 = -lp + 0.5 * momentum.reduce(0) { $0 + $1 * $1 }
                let h1 = -lpNew + 0.5 * p.reduce(0) { $0 + $1 * $1 }
                let logRatio = h0 - h1
                acceptProbability = logRatio.isNaN ? 0 : Swift.min(1, exp(logRatio))
            } else {
                divergences += iteration >= warmup ? 1 : 0
            }
            if generator.nextDouble() < acceptProbability { q = qNew; lp = lpNew; grad = gNew }
            if iteration < warmup && adaptStepSize {
                let m = Double(iteration + 1)
                hBar = (1 - 1 / (m + t0)) * hBar + (targetAcceptance - acceptProbability) / (m + t0)
                let logEpsilon = mu - m.squareRoot() / gamma * hBar
                let weight = pow(m, -kappa)
                logEpsilonBar = weight * logEpsilon + (1 - weight) * logEpsilonBar
                epsilon = exp(logEpsilon)
                if iteration == warmup - 1 { epsilon = exp(logEpsilonBar) }
            }
            if iteration >= warmup { kept.append(q); acceptSum += acceptProbability }
        }
        return MCMCChain(samples: kept, acceptanceRate: acceptSum / Double(samples), stepSize: epsilon, divergences: divergences)
    }
}

/// Random-walk Metropolis–Hastings with Gaussian proposals N(x, `proposalScale`² I).
public struct RandomWalkMetropolis: Sendable {
    /// The proposal standard deviation per coordinate.
    public var proposalScale: Double

    /// A sampler; throws unless the scale is finite and > 0.
    public init(proposalScale: Double) throws {
        guard proposalScale.isFinite, proposalScale > 0 else {
            throw CohortError.invalidArgument("RandomWalkMetropolis: proposalScale must be finite and > 0, got \(proposalScale)")
        }
        self.proposalScale = proposalScale
    }

    /// Runs `warmup` + `samples` iterations from `initial` and keeps the last `samples` draws.
    /// `logDensity` maps a position [d] to a scalar log p (evaluated without autograd).
    public func sample(initial: [Double], samples: Int, warmup: Int = 500, generator: inout RandomGenerator,
                       logDensity: (Tensor) throws -> Tensor) throws -> MCMCChain {
        try validateStart(initial, samples: samples, warmup: warmup, "RandomWalkMetropolis")
        let d = initial.count
        func evaluate(_ q: [Double]) throws -> Double {
            let lp = try withNoGrad { try logDensity(try Tensor(q.map { Float($0) }, shape: [d])) }
            guard lp.count == 1 else {
                throw CohortError.shapeMismatch(op: "RandomWalkMetropolis", "logDensity must return a scalar, got \(describeShape(lp.shape))")
            }
            return Double(try lp.item())
        }
        var q = initial, lp = try evaluate(q)
        guard lp.isFinite else { throw CohortError.invalidArgument("RandomWalkMetropolis: log density at the initial point is \(lp)") }
        var kept: [[Double]] = [], accepted = 0, divergences = 0
        kept.reserveCapacity(samples)
        for iteration in 0..<(warmup + samples) {
            let proposal = q.map { $0 + proposalScale * Variates.normal(&generator) }
            let lpNew = try evaluate(proposal)
            if !lpNew.isFinite && lpNew != -.infinity && iteration >= warmup { divergences += 1 }
            let accept = lpNew.isFinite && log(Variates.openUniform(&generator)) < lpNew - lp
            if accept { q = proposal; lp = lpNew }
            if iteration >= warmup { kept.append(q); accepted += accept ? 1 : 0 }
        }
        return MCMCChain(samples: kept, acceptanceRate: Double(accepted) / Double(samples), stepSize: proposalScale,
                         divergences: divergences)
    }
}

/// Throws for an empty or non-finite start, samples ≤ 0 or warmup < 0.
func validateStart(_ initial: [Double], samples: Int, warmup: Int, _ sampler: String) throws {
    guard !initial.isEmpty, initial.allSatisfy(\.isFinite) else {
        throw CohortError.invalidArgument("\(sampler): the initial point must be non-empty and finite, got \(initial)")
    }
    guard samples > 0, warmup >= 0 else {
        throw CohortError.invalidArgument("\(sampler): need samples > 0 and warmup >= 0, got \(samples) and \(warmup)")
    }
}
