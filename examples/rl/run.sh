#!/usr/bin/env bash
# Reproduces the figures of examples/rl/README.md: PPO on CartPole-v1 at 2 ranks vs
# Stable-Baselines3's PPO (the peer script, 1 thread), interleaved seed by seed in one
# sitting; raw environment steps/s of Cohort vs Gymnasium; DQN on CartPole; PPO on
# Acrobot-v1 (zoo budget, 1M steps) and Pendulum-v1 (300k steps). Results go to
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

for env in acrobot pendulum; do
  if [[ $what == all || $what == "$env" ]]; then
    : > "$OUT/$env.txt"
    extra=(); [[ $env == pendulum ]] && extra=(--steps "${PENDULUM_STEPS:-300000}")
    for s in ${SEEDS_LONG:-0}; do
      "${MPI[@]}" "$BIN" rl --env "$env" --algo ppo --seed "$s" "${extra[@]}" --eval-every 50000 --summary-json "$OUT/cohort-$env-$s.json" \
        --log-dir "$OUT/run-$env-$s" 2>&1 | grep -E "eval at|done" || true
      echo "COHORT_$env $(cat "$OUT/cohort-$env-$s.json")" | tee -a "$OUT/$env.txt"
    done
  fi
done
