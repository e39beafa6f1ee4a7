#!/usr/bin/env bash
# `cohort serve` against the serving peer (../shared/bench/peers/serve: FastAPI + uvicorn +
# ONNX Runtime, no cross-request batching) on the same W1 MLP shape (784-1024-1024-10), same
# protocol, same wrk script (predict.lua), 1 compute thread each, interleaved in one sitting.
# Prints requests/s, p50/p99 and non-2xx per run, then the median ratios cohort / peer.
#
#   bench/serve-vs-peer.sh [ROUNDS=3] [SECONDS=10]      (COHORT_BIN: the release binary)
# Needs: wrk (Debian), the reference venv (make deps) plus fastapi and uvicorn (installed here
# into it when missing), ../shared/data/mnist and ../shared/bench/peers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROUNDS=${1:-3}; SECS=${2:-10}
BIN=$(realpath "${COHORT_BIN:-.build/release/cohort}")
PY=${COHORT_VENV:-$HOME/.cache/cohort-venv}/bin/python3
PEERS=$(realpath ../shared/bench/peers)
command -v wrk >/dev/null || { echo "serve-vs-peer: wrk is missing (apt-get install wrk)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "serve-vs-peer: no cohort binary at $BIN (swift build -c release)" >&2; exit 1; }
"$PY" -c 'import fastapi, uvicorn' 2>/dev/null || "$PY" -m pip install -q fastapi uvicorn
work=$(mktemp -d /tmp/serve-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

echo "== models: ONNX W1 (peer) and a Cohort W1-shaped MLP checkpoint (1 training step)"
(cd "$PEERS" && "$PY" w9_onnxruntime.py --keep "$work/w9" --repeats 1 --steps 20 >/dev/null 2>&1) \
  || (cd "$PEERS" && "$PY" w9_onnxruntime.py --keep "$work/w9" >/dev/null)
OPENBLAS_NUM_THREADS=1 "$BIN" train --data ../shared/data/mnist --model mlp --hidden 1024,1024 --steps 1 \
  --global-batch 64 --checkpoint-dir "$work/w1run" --checkpoint-every 1 --log-every 1000 >"$work/train.log" 2>&1

COHORT_PORT=18090; PEER_PORT=18091
OPENBLAS_NUM_THREADS=1 "$BIN" serve --checkpoint "$work/w1run" --name w1 --port $COHORT_PORT --threads 1 \
  --max-batch 64 --max-delay-ms 1 --no-access-log --log-level warning 2>"$work/cohort.log" & pids+=($!)
(cd "$PEERS/serve" && exec env OMP_NUM_THREADS=1 "$PY" serve_ort.py "$work/w9/w1_mlp.onnx" --name w1 --port $PEER_PORT --threads 1 \
  >"$work/peer.log" 2>&1) & pids+=($!)
for port in $COHORT_PORT $PEER_PORT; do
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null && break; sleep 0.5; done
  curl -sf "http://127.0.0.1:$port/v2/health/ready" >/dev/null || { echo "server on $port did not start"; cat "$work"/*.log; exit 1; }
done

# run NAME PORT CONNECTIONS -> "rps p50_ms p99_ms non2xx"
run() {
  local out; out=$(wrk -t2 -c"$3" -d"${SECS}s" --latency -s "$PEERS/serve/predict.lua" "http://127.0.0.1:$2/v2/models/w1/infer")
  python3 - "$out" <<'PY'
import re, sys
t = sys.argv[1]
def ms(label):
    m = re.search(r"^\s*" + label + r"\s+([\d.]+)(us|ms|s)\s*$", t, re.M)
    v = float(m.group(1)); return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", t); err = re.search(r"Socket errors:.*", t)
print(f"{rps:.0f} {ms('50%'):.2f} {ms('99%'):.2f} {int(bad.group(1)) if bad else 0}{' ' + err.group(0) if err else ''}")
PY
}
for c in 8 64; do
  wrk -t2 -c"$c" -d2s -s "$PEERS/serve/predict.lua" "http://127.0.0.1:$COHORT_PORT/v2/models/w1/infer" >/dev/null   # warm-up
  wrk -t2 -c"$c" -d2s -s "$PEERS/serve/predict.lua" "http://127.0.0.1:$PEER_PORT/v2/models/w1/infer" >/dev/null
  : >"$work/c$c"
  for r in $(seq 1 "$ROUNDS"); do
    co=$(run cohort $COHORT_PORT "$c"); pe=$(run peer $PEER_PORT "$c")
    echo "c=$c round $r  cohort: $co   peer: $pe"
    echo "$co | $pe" >>"$work/c$c"
  done
  python3 - "$work/c$c" "$c" <<'PY'
import statistics, sys
rows = [l.split("|") for l in open(sys.argv[1])]
co = [list(map(float, a.split()[:4])) for a, _ in rows]; pe = [list(map(float, b.split()[:4])) for _, b in rows]
med = lambda xs, i: statistics.median(x[i] for x in xs)
print(f"c={sys.argv[2]}: cohort {med(co,0):.0f} req/s p99 {med(co,2):.2f} ms | peer {med(pe,0):.0f} req/s p99 {med(pe,2):.2f} ms"
      f" | req/s ratio {med(co,0)/med(pe,0):.2f}x, p99 ratio {med(co,2)/med(pe,2):.3f} | cohort non-2xx {sum(x[3] for x in co):.0f}")
PY
done
