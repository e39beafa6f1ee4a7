#!/usr/bin/env bash
# Transfer learning, MNIST → Fashion-MNIST with 1,000 labelled training images.
#
# 1. Pre-train the CNN (`--model cnn`, W2's network) on MNIST, once in Cohort and once in
#    PyTorch (pretrain_torch.py, saved as safetensors with PyTorch's own names).
# 2. Fine-tune on the first 1,000 Fashion-MNIST training images, at the same step budget,
#    four ways, each for every seed:
#      scratch   — a fresh network (no pre-training)
#      frozen    — the pre-trained convolutional features frozen (1.*, 2.*), a new classifier head
#                  (the two Linear layers 4.* and 6.*, re-initialised) trained
#      finetune  — everything trained: the new head at the lr, the convolutions at a tenth of it
#      and frozen/finetune again from the PyTorch-trained weights (`--init-from … --name-map torch`).
# 3. Print the held-out accuracy (the 10,000 Fashion-MNIST test images) of each run and the
#    median over the seeds, as a Markdown table (the README's table is this output).
#
# Usage: bash examples/transfer/run.sh [OUT_DIR]       (default runs/transfer)
# Knobs (environment): COHORT_BIN, PYTHON (the reference venv's python), DATA (../shared/data),
#   SEEDS ("1 2 3"), SAMPLES (1000), STEPS (fine-tune steps, 100), BATCH (64), LR (1e-3),
#   PRETRAIN_STEPS (Cohort's MNIST pre-training, 937 = one epoch at batch 64),
#   TORCH_EPOCHS (1), THREADS (BLAS threads per run, default: Cohort's choice),
#   CHECK (1: exit 1 unless every pre-trained start beats from-scratch; the smoke test sets 0).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
BIN=${COHORT_BIN:-.build/release/cohort}
PYTHON=${PYTHON:-$HOME/.cache/cohort-venv/bin/python}
DATA=${DATA:-../shared/data}
SEEDS=${SEEDS:-1 2 3}
SAMPLES=${SAMPLES:-1000}
STEPS=${STEPS:-100}
BATCH=${BATCH:-64}
LR=${LR:-1e-3}
PRETRAIN_STEPS=${PRETRAIN_STEPS:-937}
TORCH_EPOCHS=${TORCH_EPOCHS:-1}
CHECK=${CHECK:-1}
OUT=${1:-runs/transfer}
threads=(); [ -n "${THREADS:-}" ] && threads=(--threads "$THREADS")
[ -x "$BIN" ] || { echo "transfer: no cohort binary at $BIN (swift build -c release)"; exit 1; }
mkdir -p "$OUT"

quiet() {   # quiet LOG COMMAND…: runs the command with its output in LOG; on failure prints its tail
  local log=$1; shift
  if ! "$@" >"$log" 2>&1; then echo "transfer: failed: $*"; tail -20 "$log"; exit 1; fi
}

echo "pre-training on MNIST: Cohort ($PRETRAIN_STEPS steps), PyTorch ($TORCH_EPOCHS epoch)" >&2
rm -rf "$OUT/cohort-mnist"
quiet "$OUT/pretrain-cohort.log" "$BIN" train --model cnn --data "$DATA/mnist" --steps "$PRETRAIN_STEPS" \
  --global-batch "$BATCH" --lr "$LR" --seed 0 --log-every 200 "${threads[@]}" \
  --checkpoint-dir "$OUT/cohort-mnist" --checkpoint-every "$PRETRAIN_STEPS" --summary-json "$OUT/pretrain-cohort.json"
quiet "$OUT/pretrain-torch.log" "$PYTHON" examples/transfer/pretrain_torch.py --data "$DATA/mnist" \
  --out "$OUT/torch-mnist.safetensors" --epochs "$TORCH_EPOCHS" --batch "$BATCH" --lr "$LR" --threads "${THREADS:-0}"

backbone_lr=$(python3 -c "print($LR / 10)")
common=(--model cnn --data "$DATA/fashion-mnist" --train-samples "$SAMPLES" --steps "$STEPS" --global-batch "$BATCH"
        --lr "$LR" --log-every "$STEPS" "${threads[@]}")
frozen=(--freeze '1.*,2.*' --reinit '4.*,6.*')
finetune=(--reinit '4.*,6.*' --param-group "1.*:lr=$backbone_lr" --param-group "2.*:lr=$backbone_lr")
for seed in $SEEDS; do
  for way in scratch frozen finetune torch-frozen torch-finetune; do
    case $way in
      scratch)        extra=() ;;
      frozen)         extra=(--init-from "$OUT/cohort-mnist" "${frozen[@]}") ;;
      finetune)       extra=(--init-from "$OUT/cohort-mnist" "${finetune[@]}") ;;
      torch-frozen)   extra=(--init-from "$OUT/torch-mnist.safetensors" --name-map torch "${frozen[@]}") ;;
      torch-finetune) extra=(--init-from "$OUT/torch-mnist.safetensors" --name-map torch "${finetune[@]}") ;;
    esac
    echo "fine-tuning: $way, seed $seed" >&2
    quiet "$OUT/$way-$seed.log" "$BIN" train "${common[@]}" --seed "$seed" "${extra[@]}" --summary-json "$OUT/$way-$seed.json"
  done
done

python3 - "$OUT" "$SEEDS" "$SAMPLES" "$STEPS" "$BATCH" "$CHECK" <<'EOF'
import json, statistics, sys
out, seeds, samples, steps, batch, check = sys.argv[1], sys.argv[2].split(), *sys.argv[3:]
names = {"scratch": "from scratch", "frozen": "Cohort-pre-trained, frozen conv features + new head",
         "finetune": "Cohort-pre-trained, full fine-tune (conv lr ÷ 10)",
         "torch-frozen": "PyTorch-pre-trained (imported), frozen conv features + new head",
         "torch-finetune": "PyTorch-pre-trained (imported), full fine-tune (conv lr ÷ 10)"}
pre = json.load(open(f"{out}/pretrain-cohort.json"))["test_accuracy"]
print(f"Fashion-MNIST, first {samples} training images, {steps} steps at batch {batch}; "
      f"held-out accuracy on the 10,000 test images (Cohort MNIST pre-training: {pre * 100:.2f} % on MNIST test)\n")
print("| start | " + " | ".join(f"seed {s}" for s in seeds) + " | median |")
print("|---|" + "---|" * (len(seeds) + 1))
medians = {}
for way, name in names.items():
    acc = [json.load(open(f"{out}/{way}-{s}.json"))["test_accuracy"] * 100 for s in seeds]
    medians[way] = statistics.median(acc)
    print(f"| {name} | " + " | ".join(f"{a:.2f} %" for a in acc) + f" | **{medians[way]:.2f} %** |")
beaten = [w for w in names if w != "scratch" and medians[w] <= medians["scratch"]]
print("\nevery pre-trained start beats from-scratch" if not beaten else f"\nNOT beating from-scratch: {', '.join(beaten)}")
sys.exit(1 if beaten and check == "1" else 0)
EOF
