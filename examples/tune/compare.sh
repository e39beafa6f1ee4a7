#!/usr/bin/env bash
# Successive halving vs random search at (about) the same training budget, over several seeds:
# random: 3 trials × 270 steps = 810 steps; halving: 12 trials at 30 → 90 → 270 steps (η = 3) = 780 steps.
# Prints each seed's winner's test log-loss for both, then wins/ties/losses for halving.
# Trials rank on the validation log-loss (continuous: fewer ties than accuracy on small sets);
# the winners are compared on the test split, which took no part in ranking.
# Usage: examples/tune/compare.sh [SEEDS] [DATA.csv]   (run from the repository root after `swift build -c release`)
# Environment: COHORT_BIN; STEPS (the longest trial, default 270) and MIN_STEPS (halving's first
# stage, default 30) scale the budget down for a smoke run.
set -euo pipefail
seeds=${1:-10}
data=${2:-../shared/data/sklearn-digits/digits.csv}
bin=${COHORT_BIN:-.build/release/cohort}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
steps=${STEPS:-270}; min_steps=${MIN_STEPS:-30}
base=(-- --data "$data" --steps "$steps" --global-batch 16)
best() { python3 -c "import json,sys; t=json.load(open(sys.argv[1])); print(t['best']['test_log_loss'], t['budget_steps'])" "$1"; }
wins=0; ties=0; losses=0
printf "%4s  %8s %6s  %8s %6s\n" seed random steps halving steps
for s in $(seq 1 "$seeds"); do
    "$bin" tune --space examples/tune/space.yaml --strategy random --trials 3 --metric val_log_loss --parallel 2 --seed "$s" --out "$tmp/r$s" "${base[@]}" >/dev/null 2>&1
    "$bin" tune --space examples/tune/space.yaml --strategy halving --trials 12 --eta 3 --min-steps "$min_steps" --metric val_log_loss --parallel 2 --seed "$s" --out "$tmp/h$s" "${base[@]}" >/dev/null 2>&1
    read -r ra rb < <(best "$tmp/r$s/results.json"); read -r ha hb < <(best "$tmp/h$s/results.json")
    printf "%4d  %8.4f %6d  %8.4f %6d\n" "$s" "$ra" "$rb" "$ha" "$hb"
    r=$(python3 -c "print((float('$ha')<float('$ra'))-(float('$ha')>float('$ra')))")   # lower log-loss is better
    case $r in 1) wins=$((wins+1));; 0) ties=$((ties+1));; *) losses=$((losses+1));; esac
done
echo "halving vs random: $wins better, $ties equal, $losses worse (of $seeds seeds)"
