#!/usr/bin/env bash
# A DCGAN on MNIST and on Fashion-MNIST, data-parallel on 2 ranks, judged by a classifier.
#
# For each data set:
# 1. Train the judge: `cohort train --model cnn` on the same data (one epoch), the classifier
#    that scores generated images (its checkpoint is `--judge`).
#    Its predictions on the real test set are checked: the share of each class it predicts should be
#    the true one (MNIST: ones 11.35 %), so that the shares it reports for samples can be trusted.
# 2. Train the GAN: `cohort train --model dcgan` under `mpirun -np 2`; every SAMPLE_EVERY steps
#    rank 0 writes a PNG grid of 64 samples from fixed noise to RUN/samples/, and the judge scores
#    10,000 generated samples: inception score, mean confidence and each class's share of the
#    samples (a generator that collapsed onto a few modes covers few classes).
# 3. `cohort generate` draws a grid from the final checkpoint; it is copied here as
#    examples/gan/<data>-grid.png, and the final scores are printed as a Markdown table.
#
# Usage: bash examples/gan/run.sh [OUT_DIR]        (default runs/gan)
# Knobs (environment): COHORT_BIN, DATA (../shared/data), SETS ("mnist fashion-mnist"),
#   STEPS (GAN steps, 6000), BATCH (global batch, 64), LR (2e-4), PACK (PacGAN pack, 2), JUDGE_STEPS (937: one epoch),
#   SAMPLE_EVERY (500), SAMPLES (judged samples, 10000), NP (ranks, 2), SEED (0),
#   CHECK (1: exit 1 unless every class has at least 5 % of the judged samples), COPY (1: copy the grids here).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${COHORT_BIN:-.build/release/cohort}
DATA=${DATA:-../shared/data}
SETS=${SETS:-mnist fashion-mnist}
STEPS=${STEPS:-6000}
BATCH=${BATCH:-64}
LR=${LR:-2e-4}
PACK=${PACK:-2}
JUDGE_STEPS=${JUDGE_STEPS:-937}
SAMPLE_EVERY=${SAMPLE_EVERY:-500}
SAMPLES=${SAMPLES:-10000}
NP=${NP:-2}
SEED=${SEED:-0}
CHECK=${CHECK:-1}
COPY=${COPY:-1}
OUT=${1:-runs/gan}
[ -x "$BIN" ] || { echo "gan: no cohort binary at $BIN (swift build -c release)"; exit 1; }
root=(); [ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
mkdir -p "$OUT"

quiet() {   # quiet LOG COMMAND…: runs the command with its output in LOG; on failure prints its tail
  local log=$1; shift
  if ! "$@" >"$log" 2>&1; then echo "gan: failed: $*"; tail -30 "$log"; exit 1; fi
}

echo "| data | steps | ranks | wall s | inception score | confidence | smallest class share | largest class share |"
echo "|---|---|---|---|---|---|---|---|"
status=0
for set in $SETS; do
  dir=$OUT/$set
  rm -rf "$dir" && mkdir -p "$dir"
  quiet "$dir/judge.log" "$BIN" train --model cnn --data "$DATA/$set" --steps "$JUDGE_STEPS" --global-batch 64 \
    --checkpoint-dir "$dir/judge" --log-every 1000 --seed "$SEED"
  quiet "$dir/judge-test.log" "$BIN" predict --checkpoint "$dir/judge" --input "$DATA/$set/t10k-images-idx3-ubyte.gz" \
    --output-format csv --output "$dir/judge-test.csv"
  python3 - "$dir/judge-test.csv" "$DATA/$set/t10k-labels-idx1-ubyte.gz" "$set" <<'PY' >&2
import gzip, sys
predictions, labels_path, name = sys.argv[1:]
labels = gzip.open(labels_path).read()[8:]
classes = [int(line.split(",")[1]) for line in open(predictions).read().splitlines()[1:] if line]
n = len(labels)
share = lambda xs, c: 100 * sum(1 for x in xs if x == c) / n
print(f"gan: {name}: the judge on the {n} real test images: accuracy {100 * sum(p == l for p, l in zip(classes, labels)) / n:.2f} %")
print("gan:   predicted class shares " + " ".join(f"{share(classes, c):.1f}" for c in range(10)))
print("gan:   true class shares      " + " ".join(f"{share(labels, c):.1f}" for c in range(10)))
PY
  t0=$SECONDS
  quiet "$dir/gan.log" mpirun "${root[@]}" --oversubscribe --bind-to none -np "$NP" "$BIN" train --model dcgan --data "$DATA/$set" \
    --steps "$STEPS" --global-batch "$BATCH" --lr "$LR" --lr-schedule constant --seed "$SEED" --pack "$PACK" \
    --sample-every "$SAMPLE_EVERY" --judge "$dir/judge" --judge-samples "$SAMPLES" \
    --log-dir "$dir/run" --checkpoint-dir "$dir/checkpoints" --checkpoint-every "$SAMPLE_EVERY" --log-every 100
  wall=$((SECONDS - t0))
  echo "gan: $set: $(grep -o 'class shares of [^,]*' "$dir/gan.log" | tail -1)" >&2
  quiet "$dir/generate.log" "$BIN" generate --checkpoint "$dir/checkpoints" --out "$dir/grid.png" --images 64 --seed 1
  [ "$COPY" = 1 ] && cp "$dir/grid.png" "examples/gan/$set-grid.png"
  # The last line of metrics.jsonl with the judge's scores (the final evaluation).
  python3 - "$dir/run/metrics.jsonl" "$set" "$STEPS" "$NP" "$wall" "$CHECK" <<'PY' || status=1
import json, sys
path, name, steps, ranks, wall, check = sys.argv[1:]
rows = [json.loads(l) for l in open(path) if '"val_inception_score"' in l]
m = rows[-1]
print(f"| {name} | {steps} | {ranks} | {float(wall):.0f} | {m['val_inception_score']:.2f} | {m['val_confidence']:.3f} | "
      f"{100 * m['val_class_min_share']:.1f} % | {100 * m['val_class_max_share']:.1f} % |")
if check == "1" and m["val_class_min_share"] < 0.05:
    print(f"gan: {name}: a class has only {100 * m['val_class_min_share']:.1f} % of the samples (< 5 %)", file=sys.stderr)
    sys.exit(1)
PY
done
exit $status
