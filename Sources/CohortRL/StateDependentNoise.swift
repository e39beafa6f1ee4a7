// Generalized State-Dependent Exploration (gSDE, Raffin et al. 2021) as Stable-Baselines3's
// `StateDependentNoiseDistribution` computes it with its defaults (`full_std`, `exp` not
// `expln`, no tanh squashing, features not learned): a log σ matrix `[latent, actions]`;
// each environment's exploration matrix W ~ N(0, exp(log σ)²) drawn every `sde_sample_freq`
// steps; the action is μ(s) + latent(s)·W; log-probabilities and entropies are those of
// N(μ(s), √(latent(s)² · exp(log σ)² + 1e-6)), with the latent cut off from the graph.
import CohortCore
import CohortTensor
import Foundation

/// gSDE's Gaussian over actions, as tensors (the update's side).
public enum StateDependentNoise {
    /// SB3's `epsilon`, added to the variance before the square root.
    public static let epsilon: Float = 1e-6

    /// The per-action standard deviation `[B, A]`: √((latent²) · exp(logStd)² + ε). `latent`
    /// `[B, L]` is detached (SB3's `learn_features=False`); differentiable in `logStd` `[L, A]`.
    public static func scale(latent: Tensor, logStd: Tensor) throws -> Tensor {
        let variance = try Tensor.matmul(latent.detached().square(), logStd.exp().square())
        return try (variance + epsilon).sqrt()
    }

    /// Log-probabilities of `actions` `[B, A]` under N(mean, scale) summed over the actions,
    /// and the entropies, both `[B, 1]` (torch's `Normal.log_prob` / `Normal.entropy`).
    public static func logProbabilityAndEntropy(mean: Tensor, scale: Tensor, actions: Tensor) throws -> (logProb: Tensor, entropy: Tensor) {
        let halfLog2Pi = Float(0.5 * Foundation.log(2 * Double.pi))
        let logScale = scale.log()
        let z = try (actions - mean) / scale
        let lp = try (z.square() * (-0.5) - logScale - halfLog2Pi).sum(axes: [1], keepDims: true)
        let ent = try (logScale + (0.5 + halfLog2Pi)).sum(axes: [1], keepDims: true)
        return (lp, ent)
    }
}

/// One rank's exploration matrices, one `[latent, actions]` matrix per environment (SB3's
/// `exploration_matrices`, sampled with `batch_size = n_envs`), and the rollout's arithmetic
/// in plain arrays.
struct ExplorationMatrices {
    let environments: Int, latentSize: Int, actionWidth: Int
    /// `environments × latentSize × actionWidth`, row-major.
    var weights: [Float]

    init(environments: Int, latentSize: Int, actionWidth: Int) {
        (self.environments, self.latentSize, self.actionWidth) = (environments, latentSize, actionWidth)
        weights = [Float](repeating: 0, count: environments * latentSize * actionWidth)
    }

    /// Draws every matrix afresh: W[l, a] = exp(logStd[l, a]) · ε, ε ~ N(0, 1) from `random`.
    mutating func resample(logStd: [Float], random: inout RandomGenerator) {
        let m = latentSize * actionWidth
        weights.withUnsafeMutableBufferPointer { random.fillNormal($0.baseAddress!, $0.count) }
        for i in 0..<environments {
            for k in 0..<m { weights[i * m + k] *= Foundation.exp(logStd[k]) }
        }
    }

    /// Samples actions for every environment from the policy's means `[E, A]` and latents
    /// `[E, L]`: actions = mean + latent · W_e, with their log-probabilities under gSDE's Gaussian.
    func sample(means: [Float], latents: [Float], logStd: [Float]) -> (actions: [Float], logProbs: [Float]) {
        let (L, A) = (latentSize, actionWidth)
        let variance = logStd.map { Foundation.exp($0) * Foundation.exp($0) }
        let halfLog2Pi = Float(0.5 * Foundation.log(2 * Double.pi))
        var actions = [Float](repeating: 0, count: environments * A), logProbs = [Float](repeating: 0, count: environments)
        for e in 0..<environments {
            var lp: Float = 0
            for a in 0..<A {
                var noise: Float = 0, v: Float = 0
                for l in 0..<L {
                    let h = latents[e * L + l]
                    noise += h * weights[(e * L + l) * A + a]
                    v += h * h * variance[l * A + a]
                }
                let sigma = (v + StateDependentNoise.epsilon).squareRoot()
                let action = means[e * A + a] + noise
                actions[e * A + a] = action
                let z = (action - means[e * A + a]) / sigma
                lp += -0.5 * z * z - Foundation.log(sigma) - halfLog2Pi
            }
            logProbs[e] = lp
        }
        return (actions, logProbs)
    }
}
