"""Stable-Baselines3's PPO on Gymnasium's Pendulum-v1 with the RL Baselines3 Zoo's tuned
setting (hyperparams/ppo.yml: 4 envs, n_steps 1024, batch 64, gae_lambda 0.95, gamma 0.9,
10 epochs, lr 1e-3, clip 0.2, no entropy bonus, gSDE with sde_sample_freq 4, 100k steps),
trained in one `learn` call, then scored with Cohort's rule: the deterministic policy's
mean return over 100 episodes reset with seeds seed + 1000 + i. Prints one RESULT line.

    python examples/rl/sb3_pendulum.py [--seed 0] [--threads 1] [--steps 100000]
"""

import argparse
import json
import time

import numpy as np


def evaluate(model, episodes, seed):
    import gymnasium as gym
    env = gym.make("Pendulum-v1")
    returns = []
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + 1000 + i)
        done, ret = False, 0.0
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, term, trunc, _ = env.step(action)
            ret += float(reward)
            done = term or trunc
        returns.append(ret)
    return float(np.mean(returns)), float(np.std(returns))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--episodes", type=int, default=100)
    a = p.parse_args()
    import stable_baselines3
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env
    torch.set_num_threads(a.threads)
    env = make_vec_env("Pendulum-v1", n_envs=4, seed=a.seed)
    model = PPO("MlpPolicy", env, n_steps=1024, batch_size=64, gae_lambda=0.95, gamma=0.9, n_epochs=10, ent_coef=0.0,
                learning_rate=1e-3, clip_range=0.2, use_sde=True, sde_sample_freq=4, seed=a.seed, device="cpu", verbose=0)
    t0 = time.perf_counter()
    model.learn(total_timesteps=a.steps)
    train_s = time.perf_counter() - t0
    mean, std = evaluate(model, a.episodes, a.seed)
    print("RESULT " + json.dumps({"workload": "RL PPO Pendulum-v1 gSDE (SB3 zoo setting)", "sb3": stable_baselines3.__version__,
                                  "seed": a.seed, "threads": a.threads, "env_steps": model.num_timesteps,
                                  "train_seconds": round(train_s, 2), "eval_episodes": a.episodes,
                                  "eval_mean_return": round(mean, 2), "eval_std_return": round(std, 2)}), flush=True)


if __name__ == "__main__":
    main()
