"""Reference trajectories of Gymnasium's classic-control environments for CohortRL's tests.

For each environment: gym.make(id) (with its TimeLimit), reset(seed=SEED), then STEPS
random actions (action_space seeded with SEED); after a terminated or truncated step the
environment is reset without a seed (the seeded stream continues). Prints one JSON
object: per environment the actions, the observations (the reset one first, then after
each step; after an episode's last step also the next reset's), rewards and flags.
Cohort's test (Tests/CohortRLTests/GymEquivalenceTests.swift) replays the same actions.

    python gym_trajectories.py [--seed 7] [--steps 1000]
"""
import argparse
import json

import gymnasium as gym
import numpy as np

ENVS = ["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "Pendulum-v1"]


def trajectory(env_id, seed, steps):
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    rec = {"id": env_id, "seed": seed, "actions": [], "obs": [], "rewards": [], "terminated": [], "truncated": [],
           "reset_obs": [[float(v) for v in obs]]}
    for _ in range(steps):
        a = env.action_space.sample()
        obs, r, term, trunc, _ = env.step(a)
        rec["actions"].append(float(a[0]) if isinstance(a, np.ndarray) else int(a))
        rec["obs"].append([float(v) for v in obs])
        rec["rewards"].append(float(r))
        rec["terminated"].append(bool(term))
        rec["truncated"].append(bool(trunc))
        if term or trunc:
            obs, _ = env.reset()
            rec["reset_obs"].append([float(v) for v in obs])
    return rec


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--steps", type=int, default=1000)
    a = p.parse_args()
    out = {"gymnasium": gym.__version__, "numpy": np.__version__,
           "envs": [trajectory(e, a.seed, a.steps) for e in ENVS]}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
