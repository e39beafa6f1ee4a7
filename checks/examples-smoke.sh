#!/usr/bin/env bash
# Every example under examples/ builds (the release build makes their executables)
# and runs a short smoke here: its commands with few steps, its programs to their
# self-checks. A folder under examples/ without a smoke below fails the test, so a new
# example cannot go unrun. TrainerExample and MathExamples are also checked in detail
# by Tests/CLITests (TrainerExampleTests, MathExamplesTests).
# Needs the release build (COHORT_BIN, default .build/release/cohort) and the reference
# venv with torch (`make deps`; COHORT_VENV, default ~/.cache/cohort-venv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=$(realpath "${COHORT_BIN:-.build/release/cohort}")
REL=$(dirname "$BIN")
VENV=${COHORT_VENV:-$HOME/.cache/cohort-venv}
DATA=../shared/data
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
root=(); [ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
MPI=(mpirun "${root[@]}" --oversubscribe --bind-to none -np 2)

run() {   # run NAME COMMAND…: runs quietly, prints the output and fails if the command fails
  local name=$1; shift
  local t0=$SECONDS
  if ! "$@" >"$tmp/out" 2>&1; then echo "examples-smoke: $name failed: $*"; tail -30 "$tmp/out"; exit 1; fi
  echo "  $name: ok ($((SECONDS - t0)) s)"
}

smoke_custom-layer() { run CustomLayerExample "$REL/CustomLayerExample"; }
smoke_char-lstm()    { run CharLSTMExample "$REL/CharLSTMExample"; }
smoke_cnn() {
  run CNNExample "$REL/CNNExample"
  run "README: train --model cnn" "$BIN" train --model cnn --data "$DATA/mnist" --steps 3 --log-every 1
  run "README: train --model resnet" "$BIN" train --model resnet --data "$DATA/mnist" --steps 2 --log-every 1
  run "README: bench w2" "$BIN" bench w2 --threads 1 --steps 1 --warmup 1 --repeats 1
}
smoke_trainer() { (cd "$tmp" && run TrainerExample "$REL/TrainerExample"); }
smoke_math() { for e in linreg pca mle ab-test logreg limits; do run "MathExamples $e" "$REL/MathExamples" "$e"; done; }
smoke_shakespeare() {
  local text=$DATA/tiny-shakespeare/input.txt
  run "README: lstm on 2 ranks" "${MPI[@]}" "$BIN" train --model lstm --data "$text" --context 64 --embedding 64 --hidden 256 \
      --layers 1 --global-batch 32 --optimizer adam --lr 1e-3 --steps 4 --log-every 2 --checkpoint-dir "$tmp/lstm"
  run "README: gpt on 2 ranks" "${MPI[@]}" "$BIN" train --model gpt --data "$text" --context 128 --layers 4 --heads 4 \
      --d-model 256 --global-batch 16 --optimizer adamw --lr 3e-4 --weight-decay 0.1 --decay-all --steps 2 --log-every 1 --checkpoint-dir "$tmp/gpt"
  run "README: generate" "$BIN" generate --checkpoint "$tmp/gpt" --prompt "ROMEO:" --tokens 20 --temperature 0.8 --top-k 40
  run "torch_reference.py" "$VENV/bin/python" examples/shakespeare/torch_reference.py --model lstm --steps 2 \
      --peers ../shared/bench/peers --data "$text"
}
smoke_tune() {
  run "README: tune" "$BIN" tune --space examples/tune/space.yaml --strategy halving --trials 3 --eta 3 --min-steps 5 --parallel 2 \
      --out "$tmp/tune" -- --data "$DATA/sklearn-digits/digits.csv" --steps 15 --global-batch 16
  run "README: train --config best.yaml" "$BIN" train --config "$tmp/tune/best.yaml" --steps 5
  run "compare.sh" env COHORT_BIN="$BIN" STEPS=9 MIN_STEPS=1 bash examples/tune/compare.sh 1
}
smoke_transfer() {
  run "run.sh" env COHORT_BIN="$BIN" PYTHON="$VENV/bin/python" DATA="$DATA" SEEDS=1 STEPS=3 PRETRAIN_STEPS=3 TORCH_EPOCHS=0.003 \
      CHECK=0 bash examples/transfer/run.sh "$tmp/transfer"
}
smoke_rl() {
  run "README: rl ppo cartpole on 2 ranks" "${MPI[@]}" "$BIN" rl --env cartpole --algo ppo --seed 0 --steps 2048 --eval-every 1024 --eval-screen 2 --eval-episodes 4
  run "README: rl dqn cartpole on 2 ranks" "${MPI[@]}" "$BIN" rl --env cartpole --algo dqn --seed 0 --steps 1024 --learning-starts 256 --gradient-steps 4 --no-target
  run "README: rl ppo pendulum (continuous)" "$BIN" rl --env pendulum --algo ppo --steps 8192 --eval-every 8192 --eval-episodes 2
  run "README: rl ppo acrobot" "$BIN" rl --env acrobot --algo ppo --steps 8192 --envs 4 --eval-every 8192 --eval-episodes 2
  run "run.sh envbench" env COHORT_BIN="$BIN" OUT="$tmp/rl" SEEDS=0 bash examples/rl/run.sh envbench
}
smoke_benchmarks() {
  run "data-wait.sh" env COHORT_BIN="$BIN" STEPS=6 bash examples/benchmarks/data-wait.sh 1
  run "compare-with-pytorch.sh" env COHORT_BIN="$BIN" PYTHON="$VENV/bin/python" THREADS=1 \
      BENCH_ARGS="--steps 1 --warmup 1 --repeats 1" bash examples/benchmarks/compare-with-pytorch.sh 1
}
smoke_timeseries() {
  run "run.sh" env COHORT_BIN="$BIN" PYTHON="$VENV/bin/python" STEPS=4 SARIMA_MAXITER=2 bash examples/timeseries/run.sh "$tmp/timeseries"
}
smoke_gan() {
  run "run.sh" env COHORT_BIN="$BIN" DATA="$DATA" SETS=mnist STEPS=4 JUDGE_STEPS=4 SAMPLE_EVERY=2 SAMPLES=200 CHECK=0 COPY=0 \
      bash examples/gan/run.sh "$tmp/gan"
}

smoke_detection() {
  run "run.sh" env COHORT_BIN="$BIN" DATA="$DATA" TRAIN=64 VAL=16 TEST=16 CANVAS=48 STEPS=4 BATCH=16 WIDTH=8 VAL_EVERY=2 CHECK=0 COPY=0 \
      bash examples/detection/run.sh "$tmp/detection"
}

[ -x "$BIN" ] || { echo "examples-smoke: no cohort binary at $BIN (swift build -c release)"; exit 1; }
for dir in examples/*/; do
  name=$(basename "$dir")
  if ! declare -F "smoke_$name" >/dev/null; then
    echo "examples-smoke: examples/$name has no smoke in checks/examples-smoke.sh"; exit 1
  fi
  echo "examples/$name"
  "smoke_$name"
done
echo "examples-smoke: every example ran"
