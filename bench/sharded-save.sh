#!/usr/bin/env bash
# Save time of a checkpoint at np=2: rank 0 writing the whole state (--checkpoint-sharding off)
# against every rank writing its part in parallel (on), same model and state, interleaved for
# ROUNDS rounds. The time is rank 0's `checkpoint save` trace event (the whole save as the step
# sees it: ZeRO's gather or the sharded save's collectives included), median of the run's saves.
# Model: GPT 8 layers × d 512 (25M parameters; AdamW, so 300 MB per checkpoint) on the built-in
# addition corpus. Usage: bench/sharded-save.sh [ROUNDS] [ZERO]   (ZERO 0: plain DDP, 1: stage 1;
# COHORT_BIN: the cohort binary, release build; COHORT_BENCH_DIR: where checkpoints go)
set -euo pipefail
rounds=${1:-3}; zero=${2:-0}
bin=${COHORT_BIN:-$(dirname "$0")/../.build/release/cohort}
out=$(mktemp -d "${COHORT_BENCH_DIR:-/tmp}/sharded-save.XXXXXX")
trap 'rm -rf "$out"' EXIT
for round in $(seq "$rounds"); do
  for mode in off on; do
    rm -rf "$out/ck" "$out"/t*.json
    mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 "$bin" train --model gpt --data addition \
      --layers 8 --heads 8 --d-model 512 --context 64 --global-batch 16 --steps 8 --checkpoint-every 2 --keep-last 1 \
      --optimizer adamw --threads 1 --log-every 1000 --zero "$zero" --checkpoint-sharding "$mode" \
      --checkpoint-dir "$out/ck" --trace "$out/t.json" > "$out/log" 2>&1 || { cat "$out/log"; exit 1; }
    python3 - "$out" "$round" "$mode" "$zero" <<'PY'
import glob, json, os, statistics, sys
out, round_, mode, zero = sys.argv[1:]
trace = [f for f in glob.glob(os.path.join(out, "t*.json")) if "rank0" in f][0]
events = json.load(open(trace))
events = events["traceEvents"] if isinstance(events, dict) else events
saves = [e["dur"] / 1e6 for e in events if e.get("name") == "checkpoint save" and e.get("ph") == "X"]
step = sorted(glob.glob(os.path.join(out, "ck", "step-*")))[-1]
mb = sum(os.path.getsize(os.path.join(step, f)) for f in os.listdir(step)) / 1e6
writers = len({f[:12] for f in os.listdir(step) if f.startswith("data-")})
print(f"round {round_} --zero {zero} --checkpoint-sharding {mode}: save {statistics.median(saves):.3f} s "
      f"(median of {len(saves)}: {', '.join(f'{s:.3f}' for s in saves)}), {mb:.0f} MB by {writers} writer(s)")
PY
  done
done
