#!/usr/bin/env bash
# Forecasting weekly CO₂ (Mauna Loa, ../shared/data/timeseries/co2.csv) 13 weeks ahead from
# the last 52: an LSTM and a GRU trained data-parallel on 2 ranks, each printed beside the
# naive, seasonal-naive (52) and linear-AR baselines on the same test windows; a GRU on the
# yearly sunspot numbers; then the statsmodels SARIMA reference on CO₂'s split. Figures: README.md.
# Usage: examples/timeseries/run.sh [OUT_DIR]   (COHORT_BIN, PYTHON, NP, STEPS and SARIMA_MAXITER override the defaults)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cohort=${COHORT_BIN:-$repo/.build/release/cohort}
python=${PYTHON:-$HOME/.cache/cohort-venv/bin/python}
np=${NP:-2}
steps=${STEPS:-3000}
out=${1:-$(mktemp -d)}
data=$repo/../shared/data/timeseries/co2.csv
mkdir -p "$out"
common=(--task forecast --data "$data" --column co2_ppm --context 52 --horizon 13 --season 52
        --hidden 64 --layers 1 --embedding 16 --global-batch 64 --steps "$steps" --lr 3e-3 --lr-schedule cosine
        --val-every 500 --log-every 500 --deterministic --seed 1)
for model in lstm gru; do
    echo "== $model"
    mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$np" "$cohort" train --model "$model" "${common[@]}" \
        --summary-json "$out/$model.json" | tee "$out/$model.log"
done
echo "== sunspots (yearly): GRU on absolute windows, the best validation checkpoint's test scores"
mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$np" "$cohort" train --model gru --task forecast \
    --data "$repo/../shared/data/timeseries/sunspots.csv" --column sunactivity --context 22 --horizon 5 --season 11 --window-level none \
    --hidden 16 --layers 1 --embedding 8 --global-batch 32 --steps $(( steps < 600 ? steps : 600 )) --lr 3e-3 --val-every 50 --log-every 1000 \
    --deterministic --seed 1 --save-best val_rmse --checkpoint-dir "$out/sunspots-ckpt" --checkpoint-every 50 \
    --summary-json "$out/sunspots.json" | tee "$out/sunspots.log"
echo "== SARIMA reference (statsmodels)"
"$python" "$here/sarima.py" --data "$data" --column co2_ppm --context 52 --horizon 13 --season 52 --maxiter "${SARIMA_MAXITER:-200}" | tee "$out/sarima.log"
echo "results in $out"
