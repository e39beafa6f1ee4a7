#!/usr/bin/env bash
# Data-wait share of step time for the MNIST CNN with augmentation, with and without --prefetch,
# at 1 and 2 ranks; interleaved repeats (the machine is shared: compare medians).
# Prints: repeat ranks prefetch data-wait-% samples/s test-accuracy
# Usage (repository root, after `swift build -c release`): examples/benchmarks/data-wait.sh [REPEATS]
# Environment: COHORT_BIN, MNIST (the IDX folder), STEPS (training steps per run, default 400).
set -euo pipefail
bin=${COHORT_BIN:-.build/release/cohort}
mnist=${MNIST:-../shared/data/mnist}
aug="crop:2,affine:10:0.1:0.05,noise:0.05,cutout:8"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
root=(); [ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
echo "repeat ranks prefetch data_wait_% samples/s test_accuracy"
for rep in $(seq 1 "${1:-3}"); do
  for np in 1 2; do
    for pf in 0 2; do
      mpirun "${root[@]}" --oversubscribe --bind-to none -np "$np" "$bin" train --model cnn --data "$mnist" --steps "${STEPS:-400}" \
        --global-batch 128 --threads 1 --log-every 1000 --prefetch "$pf" --augment "$aug" --summary-json "$tmp/s.json" >/dev/null 2>&1
      python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($rep, $np, $pf, '%.2f' % (100 * d['data_wait_seconds'] / d['train_seconds']), '%.0f' % d['samples_per_sec'], '%.4f' % d['test_accuracy'])" "$tmp/s.json"
    done
  done
done
