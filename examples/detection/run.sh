#!/usr/bin/env bash
# Object detection on digit scenes, data-parallel on 2 ranks (docs/detection.md).
#
# 1. `cohort data make-detection`: 8,000 training, 1,000 validation and 1,000 test scenes of
#    96×96 pixels, 2–5 MNIST digits each, boxes and classes in annotations.json.
# 2. `cohort train --task detect --model detector` under `mpirun -np NP`: validation mAP every
#    VAL_EVERY steps, test mAP@0.5 and mAP@[.5:.95] at the end (metrics.jsonl, summary.json).
# 3. `cohort predict --draw` on the test scenes; the first four drawn scenes are copied here.
# Prints a Markdown row of the figures; with CHECK=1 exits 1 unless validation mAP@0.5 ≥ 0.9.
#
# Usage: bash examples/detection/run.sh [OUT_DIR]        (default runs/detection)
# Knobs (environment): COHORT_BIN, DATA (../shared/data), TRAIN/VAL/TEST (scenes: 8000/1000/1000),
#   CANVAS (96), STEPS (1500), BATCH (global batch, 64), LR (0.002), WIDTH (--hidden, 32),
#   VAL_EVERY (500), NP (2), SEED (0), CHECK (1), COPY (1: copy four drawn scenes here).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${COHORT_BIN:-.build/release/cohort}
DATA=${DATA:-../shared/data}
TRAIN=${TRAIN:-8000}; VAL=${VAL:-1000}; TEST=${TEST:-1000}; CANVAS=${CANVAS:-96}
STEPS=${STEPS:-1500}; BATCH=${BATCH:-64}; LR=${LR:-0.002}; WIDTH=${WIDTH:-32}
VAL_EVERY=${VAL_EVERY:-500}; NP=${NP:-2}; SEED=${SEED:-0}; CHECK=${CHECK:-1}; COPY=${COPY:-1}
OUT=${1:-runs/detection}
[ -x "$BIN" ] || { echo "detection: no cohort binary at $BIN (swift build -c release)"; exit 1; }
root=(); [ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
rm -rf "$OUT" && mkdir -p "$OUT"

quiet() {   # quiet LOG COMMAND…: runs the command with its output in LOG; on failure prints its tail
  local log=$1; shift
  if ! "$@" >"$log" 2>&1; then echo "detection: failed: $*"; tail -30 "$log"; exit 1; fi
}

quiet "$OUT/data.log" "$BIN" data make-detection --mnist "$DATA/mnist" --out "$OUT/data" --train "$TRAIN" --val "$VAL" --test "$TEST" \
  --canvas "$CANVAS" --seed "$SEED"
t0=$SECONDS
quiet "$OUT/train.log" mpirun "${root[@]}" --oversubscribe --bind-to none -np "$NP" -x OPENBLAS_NUM_THREADS=1 "$BIN" train \
  --task detect --model detector --data "$OUT/data" --hidden "$WIDTH" --steps "$STEPS" --global-batch "$BATCH" --lr "$LR" \
  --seed "$SEED" --val-every "$VAL_EVERY" --log-dir "$OUT/run" --checkpoint-dir "$OUT/checkpoints" --summary-json "$OUT/summary.json" --log-every 100
wall=$((SECONDS - t0))
quiet "$OUT/predict.log" "$BIN" predict --checkpoint "$OUT/checkpoints" --input "$OUT/data/test" --draw "$OUT/drawn" --output "$OUT/boxes.jsonl"
if [ "$COPY" = 1 ]; then for i in 0 1 2 3; do cp "$OUT/drawn/00000$i.png" "examples/detection/test-00000$i.png"; done; fi
grep -E "validation at|done:" "$OUT/train.log" | sed 's/^\[rank 0\/[0-9]*\] //'
echo "| steps | ranks | wall s | val mAP@0.5 | val mAP@[.5:.95] | test mAP@0.5 | test mAP@[.5:.95] |"
echo "|---|---|---|---|---|---|---|"
python3 - "$OUT/summary.json" "$OUT/run/metrics.jsonl" "$STEPS" "$NP" "$wall" "$CHECK" <<'PY'
import json, sys
summary, metrics, steps, ranks, wall, check = sys.argv[1:]
s = json.load(open(summary))
val = [json.loads(l) for l in open(metrics) if '"val_map50"' in l][-1]
print(f"| {steps} | {ranks} | {wall} | {val['val_map50']:.4f} | {val['val_map']:.4f} | {s['test_map50']:.4f} | {s['test_map']:.4f} |")
if check == "1" and val["val_map50"] < 0.9:
    print(f"detection: validation mAP@0.5 {val['val_map50']:.4f} < 0.9", file=sys.stderr)
    sys.exit(1)
PY
