// Closed-form Kullback–Leibler divergences KL(p ‖ q) = E_p[log p − log q] between
// distributions of the same family, elementwise over broadcast batch shapes.
// Built from tensor ops (differentiable) except the multivariate normal (Double).
import CohortCore
import CohortTensor

/// KL(p ‖ q) for two normals: log(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − ½.
public func klDivergence(_ p: Normal, _ q: Normal) throws -> Tensor {
    let ratio = try p.scale / q.scale
    return try (ratio.log() * -1) + (ratio.square() + ((p.loc - q.loc) / q.scale).square()) * 0.5 - 0.5
}

/// KL(p ‖ q) for two d-dimensional normals: ½[tr(Σq⁻¹Σp) + (μq − μp)ᵀΣq⁻¹(μq − μp) − d + log det Σq − log det Σp].
/// Computed in Double (not differentiable); throws when the dimensions differ.
public func klDivergence(_ p: MultivariateNormal, _ q: MultivariateNormal) throws -> Tensor {
    guard p.dimension == q.dimension else {
        throw CohortError.shapeMismatch(op: "klDivergence", "MultivariateNormal of dimension \(p.dimension) vs \(q.dimension)")
    }
    let d = p.dimension
    // tr(Σq⁻¹Σp) = ‖Lq⁻¹ Lp‖²_F, and the Mahalanobis term is ‖Lq⁻¹(μq − μp)‖².
    var trace = 0.0
    for j in 0..<d {
        let column = CholeskyFactor.solveLower(q.factor, (0..<d).map { p.factor[$0][j] })
        trace += column.reduce(0) { $0 + $1 * $1 }
    }
    let mp = p.loc.scalars.map { Double($0) }, mq = q.loc.scalars.map { Double($0) }
    let white = CholeskyFactor.solveLower(q.factor, zip(mq, mp).map { $0 - $1 })
    let mahalanobis = white.reduce(0) { $0 + $1 * $1 }
    let kl = 0.5 * (trace + mahalanobis - Double(d) + CholeskyFactor.logDeterminant(q.factor) - CholeskyFactor.logDeterminant(p.factor))
    return Tensor.full([], Float(kl))
}

/// KL(p ‖ q) for two Bernoullis: p(log p − log q) + (1 − p)(log(1 − p) − log(1 − q)), from the logits.
public func klDivergence(_ p: Bernoulli, _ q: Bernoulli) throws -> Tensor {
    // log σ(l) = −softplus(−l), log(1 − σ(l)) = −softplus(l).
    let probs = p.probs
    let logP1 = try softplus(p.logits * -1) * -1, logQ1 = try softplus(q.logits * -1) * -1
    let logP0 = try softplus(p.logits) * -1, logQ0 = try softplus(q.logits) * -1
    return try probs * (logP1 - logQ1) + (1 - probs) * (logP0 - logQ0)
}

/// KL(p ‖ q) for two categoricals over the same classes: Σₖ pₖ (log pₖ − log qₖ).
public func klDivergence(_ p: Categorical, _ q: Categorical) throws -> Tensor {
    guard p.classCount == q.classCount else {
        throw CohortError.shapeMismatch(op: "klDivergence", "Categorical with \(p.classCount) vs \(q.classCount) classes")
    }
    let logP = try p.logits.logSoftmax(axis: -1), logQ = try q.logits.logSoftmax(axis: -1)
    return try (logP.exp() * (logP - logQ)).sum(axes: [-1])
}

/// KL(p ‖ q) for two exponentials: log λp − log λq + λq/λp − 1.
public func klDivergence(_ p: Exponential, _ q: Exponential) throws -> Tensor {
    let ratio = try q.rate / p.rate
    return try ratio - ratio.log() - 1
}

/// KL(p ‖ q) for two gammas (shape α, rate β):
/// (αp − αq)ψ(αp) − log Γ(αp) + log Γ(αq) + αq(log βp − log βq) + αp(βq − βp)/βp.
public func klDivergence(_ p: Gamma, _ q: Gamma) throws -> Tensor {
    let ap = p.concentration, aq = q.concentration, bp = p.rate, bq = q.rate
    return try (ap - aq) * digammaOp(ap) - logGammaOp(ap) + logGammaOp(aq) + aq * (bp.log() - bq.log()) + ap * (bq - bp) / bp
}

/// KL(p ‖ q) for two betas: log B(αq, βq) − log B(αp, βp) + (αp − αq)ψ(αp) + (βp − βq)ψ(βp)
/// + (αq − αp + βq − βp)ψ(αp + βp).
public func klDivergence(_ p: Beta, _ q: Beta) throws -> Tensor {
    let ap = p.alpha, bp = p.beta, aq = q.alpha, bq = q.beta
    let sum = try ap + bp
    return try logBetaOp(aq, bq) - logBetaOp(ap, bp) + (ap - aq) * digammaOp(ap) + (bp - bq) * digammaOp(bp)
        + (aq - ap + bq - bp) * digammaOp(sum)
}

/// KL(p ‖ q) for two uniforms: log((hq − lq)/(hp − lp)) when [lp, hp) ⊆ [lq, hq), +∞ otherwise.
public func klDivergence(_ p: Uniform, _ q: Uniform) throws -> Tensor {
    let value = try (q.high - q.low).log() - (p.high - p.low).log()
    let shape = value.shape
    let lp = try broadcastValues(p.low, to: shape), hp = try broadcastValues(p.high, to: shape)
    let lq = try broadcastValues(q.low, to: shape), hq = try broadcastValues(q.high, to: shape)
    let inside = try Tensor(lp.indices.map { lq[$0] <= lp[$0] && hp[$0] <= hq[$0] ? 1 : 0 }, shape: shape)
    return try Tensor.where(inside, value, constant(.infinity, shape))
}

/// KL(p ‖ q) for two Poissons: λp(log λp − log λq) − λp + λq.
public func klDivergence(_ p: Poisson, _ q: Poisson) throws -> Tensor {
    try p.rate * (p.rate.log() - q.rate.log()) - p.rate + q.rate
}
