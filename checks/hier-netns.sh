#!/usr/bin/env bash
# Hierarchical allreduce across 2 network-namespace "hosts" × 2 ranks (cluster/netns.sh;
# shared memory between a host's ranks, TCP between hosts): MPISelfTest compares the
# hierarchical with the flat allreduce on random data (within 1e-6, blocking and
# non-blocking), and a short `cohort train` with --allreduce hierarchical must end at
# flat's weights (within 1e-5; bitwise with --deterministic). Needs root and iproute2;
# skipped otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${COHORT_BIN:-$PWD/.build/release/cohort}
SELF=$(dirname "$BIN")/MPISelfTest
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
  echo "hier-netns: skipped (needs root and iproute2 with network namespaces)"
  exit 0
fi
export COHORT_NETNS_PREFIX=cohhier COHORT_NETNS_NET=10.207.0 COHORT_NETNS_SLOTS=2 COHORT_NETNS_BTL=vader,tcp,self
work=$(mktemp -d)
trap 'rm -rf "$work"; cluster/netns.sh down' EXIT
fail() { echo "hier-netns: FAILED ($1)"; tail -30 "$2"; exit 1; }
timeout 180 cluster/netns.sh run 2 -- -np 4 "$SELF" > "$work/self" 2>&1 || fail "MPISelfTest across the hosts" "$work/self"
for k in 0 1 2 3; do
  grep -q "hierarchical allreduce: ok on rank $k (2 nodes, up to 2 ranks each)" "$work/self" || fail "rank $k's hierarchical check" "$work/self"
done
args=(train --steps 20 --global-batch 64 --hidden 64 --log-every 1000 --checkpoint-every 20 --bucket-mb 0.01 --seed 4)
for mode in flat hierarchical; do
  for det in "" --deterministic; do
    name=$mode${det:+-det}
    timeout 180 cluster/netns.sh run 2 -- -np 4 "$BIN" "${args[@]}" --allreduce "$mode" $det --checkpoint-dir "$work/$name" \
      --summary-json "$work/$name.json" > "$work/$name.log" 2>&1 || fail "training with --allreduce $mode $det" "$work/$name.log"
  done
done
grep -q "allreduce hierarchical: 2 nodes, up to 2 ranks per node" "$work/hierarchical.log" || fail "no 2-node topology line" "$work/hierarchical.log"
grep -q '"gradient_transport" : "allreduce"' "$work/hierarchical.json" || fail "gradients did not go through MPI" "$work/hierarchical.json"
"$BIN" ckpt diff "$work/flat/step-00000020" "$work/hierarchical/step-00000020" --rtol 1e-5 --atol 1e-6 > "$work/diff" \
  || fail "hierarchical weights differ from flat" "$work/diff"
sha() { sed -n 's/.*"weights_sha256" : "\([0-9a-f]*\)".*/\1/p' "$1"; }
[ -n "$(sha "$work/flat-det.json")" ] && [ "$(sha "$work/flat-det.json")" = "$(sha "$work/hierarchical-det.json")" ] \
  || fail "deterministic weights differ: $(sha "$work/flat-det.json") vs $(sha "$work/hierarchical-det.json")" "$work/hierarchical-det.log"
! ip netns list | grep -q '^cohhier-' || fail "namespaces left behind" /dev/null
echo "hier-netns: OK (2 hosts × 2 ranks: hierarchical = flat within 1e-6 on random data, trained weights within 1e-5, bitwise in deterministic mode)"
