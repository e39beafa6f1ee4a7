"""Stable-Baselines3 side of GSDETests (Tests/CohortRLTests): what SB3's
StateDependentNoiseDistribution (gSDE with its defaults: full_std, exp, no squashing,
features not learned) computes on fixed tensors.

Inputs are not passed: both sides compute element i of a tensor with seed s as
float32(scale * sin(0.731 * i + 1.37 * s)). Shapes: mean [B, A] (seed 1, scale 0.5),
latent [B, L] (seed 2, 1.0), log_std [L, A] (seed 3, 0.8), actions [B, A] (seed 4, 1.5),
exploration matrices [B, L, A] (seed 5, 0.7). Prints one JSON object: the log-probabilities
and entropies [B] of the actions, the gradients of sum(log_prob) + 0.3 * sum(entropy) with
respect to log_std and mean, whether the latent got a gradient, and the actions sampled
with the given exploration matrices (SB3's get_noise: mean + latent_e · W_e) with their
log-probabilities.
"""
import json
import math

import stable_baselines3
import torch
from stable_baselines3.common.distributions import StateDependentNoiseDistribution

B, L, A = 5, 4, 2


def fixed(shape, seed, scale):
    n = math.prod(shape)
    values = [scale * math.sin(0.731 * i + 1.37 * seed) for i in range(n)]
    return torch.tensor(values, dtype=torch.float64).to(torch.float32).reshape(shape)


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def main():
    torch.set_num_threads(1)
    dist = StateDependentNoiseDistribution(A)
    dist.proba_distribution_net(latent_dim=L, log_std_init=0.0)
    mean = fixed([B, A], 1, 0.5).requires_grad_(True)
    latent = fixed([B, L], 2, 1.0).requires_grad_(True)
    log_std = fixed([L, A], 3, 0.8).requires_grad_(True)
    actions = fixed([B, A], 4, 1.5)
    weights = fixed([B, L, A], 5, 0.7)

    dist.proba_distribution(mean, log_std, latent)
    log_prob = dist.log_prob(actions)
    entropy = dist.entropy()
    (log_prob.sum() + 0.3 * entropy.sum()).backward()

    dist.exploration_matrices = weights
    with torch.no_grad():
        dist.proba_distribution(mean, log_std, latent)
        sampled = dist.sample()
        sampled_log_prob = dist.log_prob(sampled)

    print(json.dumps({
        "sb3": stable_baselines3.__version__, "torch": torch.__version__, "shape": [B, L, A],
        "log_prob": flat(log_prob), "entropy": flat(entropy),
        "grad_log_std": flat(log_std.grad), "grad_mean": flat(mean.grad),
        "latent_has_grad": latent.grad is not None and bool(latent.grad.abs().sum() > 0),
        "sampled": flat(sampled), "sampled_log_prob": flat(sampled_log_prob),
    }))


if __name__ == "__main__":
    main()
