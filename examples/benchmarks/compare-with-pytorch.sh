#!/usr/bin/env bash
# Interleaved Cohort-vs-PyTorch throughput for the model-zoo workloads (W1 MLP, W2 CNN,
# W3 GPT, W4 char-LSTM) at 1 and 2 threads: each round runs every workload on
# both frameworks back to back, so machine noise hits both alike; the ratios
# (Cohort ÷ PyTorch median) are what to read, over several rounds.
#
#   examples/benchmarks/compare-with-pytorch.sh [ROUNDS]
# Environment: COHORT_BIN (default .build/release/cohort), PYTHON (a venv with
# torch; default ~/.cache/cohort-venv/bin/python, the reference venv `make deps` makes),
# PEERS (default ../shared/bench/peers), WORKLOADS (default "w1 w2 w3 w4"; w10 is the GPT-2-small size), THREADS (default "1 2"), BENCH_ARGS (extra flags
# for both sides, e.g. "--steps 1 --warmup 1 --repeats 1" for a smoke run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=$(realpath "${COHORT_BIN:-.build/release/cohort}")
PYTHON=${PYTHON:-$HOME/.cache/cohort-venv/bin/python}   # not realpath: the venv's python is a symlink
PEERS=${PEERS:-$(realpath ../shared/bench/peers)}
ROUNDS=${1:-3}
declare -A script=([w1]=w1_mlp.py [w2]=w2_cnn.py [w3]=w3_gpt.py [w4]=w4_lstm.py [w10]=w10_gpt2.py)
for r in $(seq "$ROUNDS"); do
  for w in ${WORKLOADS:-w1 w2 w3 w4}; do
    for t in ${THREADS:-1 2}; do
      c=$("$BIN" bench "$w" --threads "$t" ${BENCH_ARGS:-} 2>&1 | sed -n 's/.*median \([0-9.e+]*\).*/\1/p' | head -1)
      p=$(cd "$PEERS" && "$PYTHON" "${script[$w]}" --threads "$t" ${BENCH_ARGS:-} 2>&1 | sed -n 's/^RESULT //p' \
          | "$PYTHON" -c 'import json, sys; print(json.load(sys.stdin)["median"])')
      "$PYTHON" -c "print(f'round $r $w threads=$t cohort={float(\"$c\"):.0f} torch={float(\"$p\"):.0f} ratio={float(\"$c\") / float(\"$p\"):.3f}')"
    done
  done
done
