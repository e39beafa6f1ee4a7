#!/usr/bin/env bash
# ZeRO's memory and speed on a GPT-2-small-sized model (12 layers, 12 heads, d 768, context 256;
# the byte vocabulary, so 85M parameters instead of 124M) trained on tiny Shakespeare at np=2:
# plain DDP, --zero 1 and --zero 2, interleaved for ROUNDS rounds; prints every rank's peak
# resident memory (the kernel's VmHWM, from --summary-json) and samples/s per run.
# Usage: bench/zero-memory.sh [ROUNDS] [STEPS]   (COHORT_BIN: the cohort binary, release build)
set -euo pipefail
rounds=${1:-2}; steps=${2:-4}
bin=${COHORT_BIN:-$(dirname "$0")/../.build/release/cohort}
data=$(cd "$(dirname "$0")/../.." && pwd)/shared/data/tiny-shakespeare/input.txt
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for round in $(seq "$rounds"); do
  for zero in 0 1 2; do
    mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 "$bin" train --model gpt --data "$data" \
      --layers 12 --heads 12 --d-model 768 --context 256 --global-batch 8 --steps "$steps" --optimizer adamw --lr 6e-4 \
      --threads 1 --log-every 1000 --zero "$zero" --summary-json "$out/z$zero.json" > "$out/log" 2>&1 || { cat "$out/log"; exit 1; }
    python3 - "$out/z$zero.json" "$round" "$zero" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
rss = ", ".join(f"{v:,.0f}" for v in s["peak_rss_mib"])
print(f"round {sys.argv[2]} --zero {sys.argv[3]}: peak RSS per rank [{rss}] MiB, "
      f"optimizer state {s['optimizer_state_elements']:,} of {s['parameters']:,} elements per buffer, "
      f"{s['samples_per_sec']:.2f} samples/s, loss {s['train_loss']:.4f}")
PY
  done
done
