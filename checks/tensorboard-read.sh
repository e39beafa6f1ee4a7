#!/usr/bin/env bash
# TensorBoard's own reader on the event file of a real `cohort train --log-dir`
# run: EventAccumulator must find train/loss and train/lr at steps 10, 20, 30
# (the same values as metrics.jsonl), the final val/<name> metrics of the
# validation part (--val-split) and the test/<name> metrics of the test split; then
# `cohort plot` must draw the run. A short GAN run's sample grids must load as
# TensorBoard images whose bytes are the PNG files it wrote beside them. Needs the reference venv with tensorboard
# (checks/support/reference-venv.sh, run by `make deps`; COHORT_VENV): a missing
# reference fails the test, since a skip would hide a broken install step.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
COHORT_BIN=${COHORT_BIN:-$PWD/.build/release/cohort}
venv=${COHORT_VENV:-$HOME/.cache/cohort-venv}
[ -x "$COHORT_BIN" ] || { echo "tensorboard-read: no cohort binary at $COHORT_BIN (swift build -c release)"; exit 1; }

"$venv/bin/python" -c "import tensorboard" 2>/dev/null || {
    echo "tensorboard-read: no tensorboard in $venv: run \`make deps\` (checks/support/reference-venv.sh)"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$COHORT_BIN" train --steps 30 --log-every 10 --val-split 0.1 --log-dir "$tmp/run" >"$tmp/train.out" 2>&1 || {
    echo "tensorboard-read: cohort train failed:"; cat "$tmp/train.out"; exit 1; }

"$venv/bin/python" - "$tmp/run" <<'PY'
import glob, json, math, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

run = sys.argv[1]
files = glob.glob(f"{run}/events.out.tfevents.*")
assert len(files) == 1, f"expected one event file in {run}, found {files}"
acc = EventAccumulator(run)
acc.Reload()
tags = acc.Tags()["scalars"]
for tag in ("train/loss", "train/lr"):
    assert tag in tags, f"{tag} missing; scalar tags: {tags}"
    steps = [e.step for e in acc.Scalars(tag)]
    assert steps == [10, 20, 30], f"{tag}: steps {steps}, expected [10, 20, 30]"
    assert all(math.isfinite(e.value) for e in acc.Scalars(tag)), f"{tag}: non-finite values"
assert all(e.value > 0 for e in acc.Scalars("train/loss")), "train/loss must be positive"
val = [t for t in tags if t.startswith("val/")]
assert val, f"no val/<name> tags; scalar tags: {tags}"
test = [t for t in tags if t.startswith("test/")]
assert test, f"no test/<name> tags; scalar tags: {tags}"
for tag in val + test:
    assert [e.step for e in acc.Scalars(tag)] == [30], f"{tag}: steps {[e.step for e in acc.Scalars(tag)]}, expected [30]"

# The same numbers as metrics.jsonl (TensorBoard stores float32); a step may have several lines.
records = {}
for r in map(json.loads, open(f"{run}/metrics.jsonl")):
    records.setdefault(r["step"], {}).update(r)
for tag, key in (("train/loss", "train_loss"), ("train/lr", "lr")):
    for e in acc.Scalars(tag):
        assert e.step in records and key in records[e.step], f"metrics.jsonl has no {key} at step {e.step}"
        want = records[e.step][key]
        assert math.isclose(e.value, want, rel_tol=1e-6, abs_tol=1e-12), f"{tag} step {e.step}: {e.value} vs {key} {want}"
print(f"tensorboard-read: EventAccumulator read {', '.join(sorted(tags))} from {files[0].split('/')[-1]}")
PY

"$COHORT_BIN" plot "$tmp/run" --out "$tmp/plots" >"$tmp/plot.out"
for f in loss.svg lr.svg; do
    [ -s "$tmp/plots/$f" ] || { echo "tensorboard-read: cohort plot did not write $f:"; cat "$tmp/plot.out"; exit 1; }
done

# A GAN's sample grids: TensorBoard images (tag `samples`) in RUN/samples, the same bytes as the PNG files.
"$COHORT_BIN" train --model dcgan --data ../shared/data/mnist --steps 4 --global-batch 16 --sample-every 2 --log-every 2 \
    --log-dir "$tmp/gan" >"$tmp/gan.out" 2>&1 || { echo "tensorboard-read: cohort train --model dcgan failed:"; cat "$tmp/gan.out"; exit 1; }
"$venv/bin/python" - "$tmp/gan/samples" <<'PY'
import sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

run = sys.argv[1]
acc = EventAccumulator(run, size_guidance={"images": 0})
acc.Reload()
assert acc.Tags()["images"] == ["samples"], f"image tags: {acc.Tags()['images']}"
images = acc.Images("samples")
assert [e.step for e in images] == [2, 4], f"image steps {[e.step for e in images]}, expected [2, 4]"
for e in images:
    png = open(f"{run}/step-{e.step:08d}.png", "rb").read()
    assert e.encoded_image_string == png, f"step {e.step}: the TensorBoard image is not the PNG file's bytes"
    assert (e.width, e.height) == (8 * 28 + 9 * 2, 8 * 28 + 9 * 2), f"step {e.step}: {e.width}×{e.height}"
print(f"tensorboard-read: EventAccumulator read {len(images)} sample grids as images")
PY
echo "tensorboard-read: ok ($(wc -l <"$tmp/plot.out") plots)"
