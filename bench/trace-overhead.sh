#!/usr/bin/env bash
# The cost of `cohort train --trace`: W1's network (MLP 784-1024-1024-10, SGD lr 0.01
# momentum 0.9, 256 samples per rank) on MNIST at 2 ranks, run without and with --trace,
# interleaved, ROUNDS rounds. Each run records --step-times; its step time is the median
# over steps after the first 5 of the slower rank's total. Prints every run and the median
# step time with and without tracing, and their ratio; then, within traced runs of a
# --trace-steps window, traced steps against the untraced ones (docs/trace.md has figures).
#
#   bench/trace-overhead.sh [ROUNDS=5] [STEPS=60]      (COHORT_BIN: the release binary)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${1:-5}; STEPS=${2:-60}
BIN=$(realpath "${COHORT_BIN:-.build/release/cohort}")
[ -x "$BIN" ] || { echo "trace-overhead: no cohort binary at $BIN (swift build -c release)" >&2; exit 1; }
work=$(mktemp -d /tmp/trace-overhead.XXXXXX)
trap 'rm -rf "$work"' EXIT
run() {   # run NAME EXTRA…: one 2-rank run, its summary in $work/NAME.json
    local name=$1; shift
    mpirun --allow-run-as-root --oversubscribe --bind-to none -np 2 "$BIN" train --model mlp --hidden 1024,1024 \
        --data ../shared/data/mnist --global-batch 512 --optimizer sgd --lr 0.01 --momentum 0.9 --threads 1 \
        --steps "$STEPS" --log-every 100000 --step-times --summary-json "$work/$name.json" "$@" >/dev/null 2>"$work/$name.err" \
        || { cat "$work/$name.err" >&2; exit 1; }
}
for r in $(seq 1 "$ROUNDS"); do
    run "off-$r"
    run "on-$r" --trace "$work/trace-$r.json"
done
python3 - "$work" "$ROUNDS" <<'PY'
import json, statistics, sys
work, rounds = sys.argv[1], int(sys.argv[2])
def step_ms(name):
    d = json.load(open(f"{work}/{name}.json"))
    cols = d["step_times"]   # [rank][step][phase]; phase 4 = total seconds
    steps = len(cols[0])
    slowest = [max(cols[r][s][4] for r in range(len(cols))) for s in range(5, steps)]
    return statistics.median(slowest) * 1e3
off, on = [], []
for r in range(1, rounds + 1):
    a, b = step_ms(f"off-{r}"), step_ms(f"on-{r}")
    off.append(a); on.append(b)
    print(f"round {r}: off {a:.3f} ms/step, on {b:.3f} ms/step, on/off {b / a:.4f}")
mo, mn = statistics.median(off), statistics.median(on)
print(f"median of {rounds} rounds: off {mo:.3f} ms/step, on {mn:.3f} ms/step, overhead {100 * (mn / mo - 1):+.2f} %")
print("per-round ratios on/off, median: %.4f" % statistics.median([b / a for a, b in zip(off, on)]))
PY
# Second measure, less exposed to a shared host's drift: within each traced run of a window
# (--trace-steps covering the middle third), the steps recorded against the steps around them.
for r in $(seq 1 "$ROUNDS"); do
    run "window-$r" --trace "$work/window-$r.json" --trace-steps "$((STEPS / 3 + 1)):$((2 * STEPS / 3))"
done
python3 - "$work" "$ROUNDS" "$STEPS" <<'PY'
import json, statistics, sys
work, rounds, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lo, hi = steps // 3 + 1, 2 * steps // 3
ratios = []
for r in range(1, rounds + 1):
    cols = json.load(open(f"{work}/window-{r}.json"))["step_times"]
    slowest = {s + 1: max(cols[k][s][4] for k in range(len(cols))) for s in range(len(cols[0]))}
    inside = statistics.median(v for s, v in slowest.items() if lo <= s <= hi)
    outside = statistics.median(v for s, v in slowest.items() if s > 5 and not lo <= s <= hi)
    ratios.append(inside / outside)
    print(f"window round {r}: steps {lo}-{hi} traced {1e3 * inside:.3f} ms/step, the others {1e3 * outside:.3f} ms/step, ratio {inside / outside:.4f}")
print(f"window: median traced/untraced ratio over {rounds} runs {statistics.median(ratios):.4f}")
PY
