#!/usr/bin/env bash
# Multi-host test: trains across 2 network-namespace "hosts" over TCP
# (cluster/netns.sh) and checks the result against a single-process run of the
# same job (within 1e-5). Needs root and iproute2; skipped (with a message) otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${COHORT_BIN:-$PWD/.build/release/cohort}
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
  echo "cluster-netns: skipped (needs root and iproute2 with network namespaces)"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"; cluster/netns.sh down' EXIT
args=(train --steps 20 --global-batch 64 --hidden 64 --log-every 1000 --checkpoint-every 20)
"$BIN" "${args[@]}" --checkpoint-dir "$work/one" >/dev/null 2>&1
timeout 300 cluster/netns.sh run 2 -- -np 2 "$BIN" "${args[@]}" --checkpoint-dir "$work/two" --summary-json "$work/two.json" \
  > "$work/log" 2>&1 || { cat "$work/log"; echo "cluster-netns: FAILED (mpirun across namespaces)"; exit 1; }
grep -q '"world_size" : 2' "$work/two.json" || { cat "$work/two.json"; echo "cluster-netns: FAILED (world size)"; exit 1; }
"$BIN" ckpt diff "$work/one/step-00000020" "$work/two/step-00000020" --rtol 1e-5 --atol 1e-6 > "$work/diff" \
  || { cat "$work/diff"; echo "cluster-netns: FAILED (2 hosts differ from 1 process)"; exit 1; }
echo "cluster-netns: OK (2 hosts over TCP match 1 process within 1e-5)"
