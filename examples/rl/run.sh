#!/usr/bin/env bash
# Reproduces the figures of examples/rl/README.md: PPO on CartPole-v1 at 2 ranks vs
# Stable-Baselines3's PPO (the peer script, 1 thread), interleaved seed by seed in one
# sitting; raw environment steps/s of Cohort vs Gymnasium; DQN on CartPole; PPO on
# Acrobot-v1 (zoo budget, 1M steps) and Pendulum-v1 (the zoo's gSDE setting and budget, 100k
# steps, seeds 0 1 2) beside SB3's PPO with the same setting. Results go to
# examples/rl/results/ (RESULT / COHORT lines and the runs' summaries).
#
#     bash examples/rl/run.sh [cartpole|envbench|dqn|acrobot|pendulum|all]   (default all)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${COHORT_BIN:-$PWD/.build/release/cohort}
PY=${COHORT_VENV:-$HOME/.cache/cohort-venv}/bin/python3
PEER=${PEER:-/work/shared/bench/peers/rl/sb3_cartpole.py}
SEEDS=${SEEDS:-"0 1 2 3 4"}
OUT=${OUT:-examples/rl/results}
mkdir -p "$OUT"
what=${1:-all}
MPI=(mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 -x OPENBLAS_NUM_THREADS=1)

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

if [[ $what == all || $what == cartpole || $what == envbench ]]; then
  : > "$OUT/cartpole.txt"
  for s in $SEEDS; do
    if [[ $what != envbench ]]; then
      OMP_NUM_THREADS=1 "$PY" "$PEER" --seed "$s" --threads 1 | grep RESULT | tee -a "$OUT/cartpole.txt"
      "${MPI[@]}" "$BIN" rl --env cartpole --algo ppo --seed "$s" --summary-json "$OUT/cohort-ppo-$s.json" 2>&1 | grep -E "solved" || true
      echo "COHORT $(cat "$OUT/cohort-ppo-$s.json")" | tee -a "$OUT/cartpole.txt"
    fi
  done
  "$BIN" rl --env cartpole --bench-env --bench-steps 5000000 | grep RESULT | sed 's/^/COHORT_ENV /' | tee -a "$OUT/cartpole.txt"
  if [[ $what != envbench ]]; then
    echo "SB3 median train seconds to solve: $(grep '^RESULT' "$OUT/cartpole.txt" | sed 's/.*"train_seconds_to_solve": \([0-9.]*\).*/\1/' | median)"
    echo "Cohort median train seconds to solve: $(grep '^COHORT {' "$OUT/cartpole.txt" | sed 's/.*"train_seconds": \([0-9.e+-]*\).*/\1/' | median)"
    echo "Gymnasium raw CartPole steps/s (median): $(grep '^RESULT' "$OUT/cartpole.txt" | sed 's/.*"gymnasium_raw_steps_per_s": \([0-9]*\).*/\1/' | median)"
  fi
fi

if [[ $what == all || $what == dqn ]]; then
  : > "$OUT/dqn.txt"
  for s in $SEEDS; do
    "${MPI[@]}" "$BIN" rl --env cartpole --algo dqn --seed "$s" --summary-json "$OUT/cohort-dqn-$s.json" 2>&1 | grep -E "solved|eval at" || true
    echo "COHORT_DQN $(cat "$OUT/cohort-dqn-$s.json")" | tee -a "$OUT/dqn.txt"
  done
fi

if [[ $what == all || $what == acrobot ]]; then
  : > "$OUT/acrobot.txt"
  for s in ${SEEDS_LONG:-0}; do
    "${MPI[@]}" "$BIN" rl --env acrobot --algo ppo --seed "$s" --eval-every 50000 --summary-json "$OUT/cohort-acrobot-$s.json" \
      --log-dir "$OUT/run-acrobot-$s" 2>&1 | grep -E "eval at|done" || true
    echo "COHORT_acrobot $(cat "$OUT/cohort-acrobot-$s.json")" | tee -a "$OUT/acrobot.txt"
  done
fi

# Pendulum: the zoo's setting (gSDE every 4 steps, 100k steps) at 2 ranks for seeds 0 1 2, and
# SB3's PPO with the same setting (examples/rl/sb3_pendulum.py) in the same sitting, both scored
# by 100 deterministic episodes from seeds seed + 1000 + i.
if [[ $what == all || $what == pendulum ]]; then
  : > "$OUT/pendulum.txt"
  for s in ${PENDULUM_SEEDS:-0 1 2}; do
    nice -n 5 "${MPI[@]}" "$BIN" rl --env pendulum --algo ppo --seed "$s" --steps "${PENDULUM_STEPS:-100000}" --eval-every "${PENDULUM_EVAL_EVERY:-20000}" \
      --summary-json "$OUT/cohort-pendulum-$s.json" --log-dir "$OUT/run-pendulum-$s" 2>&1 | grep -E "eval at|done" || true
    echo "COHORT_pendulum $(cat "$OUT/cohort-pendulum-$s.json")" | tee -a "$OUT/pendulum.txt"
  done
  # The same 100k-step runs scored over 750 episodes (seeds 1000–1749), the zoo's episode count.
  for s in ${PENDULUM_EVAL750_SEEDS-0 1 2}; do
    mkdir -p "$OUT/pendulum-eval750"
    nice -n 5 "${MPI[@]}" "$BIN" rl --env pendulum --algo ppo --seed "$s" --steps "${PENDULUM_STEPS:-100000}" --eval-every "${PENDULUM_STEPS:-100000}" \
      --eval-episodes 750 --summary-json "$OUT/pendulum-eval750/cohort-pendulum-$s.json" 2>&1 | grep -E "eval at" || true
    echo "COHORT_pendulum_eval750 $(cat "$OUT/pendulum-eval750/cohort-pendulum-$s.json")" | tee -a "$OUT/pendulum.txt"
  done
  for s in ${SB3_PENDULUM_SEEDS-0 1 2}; do
    OMP_NUM_THREADS=1 nice -n 5 "$PY" examples/rl/sb3_pendulum.py --seed "$s" --threads 1 --steps "${PENDULUM_STEPS:-100000}" \
      | grep RESULT | sed 's/^RESULT/SB3_pendulum/' | tee -a "$OUT/pendulum.txt"
  done
fi
