#!/usr/bin/env bash
# A scaling sweep across 3 network-namespace "hosts" (cluster/netns.sh): `cohort
# scale` runs from the head namespace, each configuration a `cohort launch` job
# over TCP, and must finish unattended with report.md, results.jsonl/csv and the
# SVG plots (checked to parse as XML). Needs root and iproute2; skipped otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${COHORT_BIN:-$PWD/.build/release/cohort}
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
  echo "scale-netns: skipped (needs root and iproute2 with network namespaces)"
  exit 0
fi
export COHORT_NETNS_PREFIX=cohs COHORT_NETNS_NET=10.203.0
NET=$COHORT_NETNS_NET
work=$(mktemp -d)
trap '[ -n "${COHORT_SCALE_KEEP:-}" ] && cp -r "$work/." "$COHORT_SCALE_KEEP/"; rm -rf "$work"; cluster/netns.sh down' EXIT
cluster/netns.sh up 3
MPIARGS="--mca plm_rsh_agent $PWD/cluster/netns-agent.sh --mca btl tcp,self --mca btl_tcp_if_include $NET.0/24"
MPIARGS+=" --mca oob_tcp_if_include $NET.0/24 --mca pml ob1 --mca osc ^ucx"
MPIARGS+=" -x OMPI_ALLOW_RUN_AS_ROOT=1 -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 -x COHORT_NETNS_PREFIX -x COHORT_NETNS_NET"
out="$work/sweep"
ip netns exec cohs-head env TMPDIR=/tmp/cohs-netns-head timeout 600 "$BIN" scale --mode weak --ranks 1,2,3 --repeats 2 \
  --steps 10 --warmup 2 --hosts "$NET.11:1,$NET.12:1,$NET.13:1" --control-address "$NET.1" --mpirun-args "$MPIARGS" \
  --out "$out" -- --hidden 256 --global-batch 64 > "$work/log" 2>&1 \
  || { tail -30 "$work/log"; echo "scale-netns: FAILED (the sweep)"; exit 1; }
fail() { echo "scale-netns: FAILED ($1)"; tail -30 "$work/log"; exit 1; }
[ "$(wc -l < "$out/results.jsonl")" -eq 6 ] || fail "expected 6 runs in results.jsonl"
grep -c ',ok,' "$out/results.csv" | grep -qx 6 || fail "not every run succeeded: $(cat "$out/results.csv")"
for r in np1 np2 np3; do grep -q "| $r | 2 |" "$out/report.md" || fail "report.md has no row for $r"; done
for p in throughput efficiency breakdown; do
  python3 -c 'import sys, xml.etree.ElementTree as E; sys.exit(0 if E.parse(sys.argv[1]).getroot().tag.endswith("svg") else 1)' \
    "$out/plots/$p.svg" || fail "plots/$p.svg is not valid SVG"
done
# Across hosts the gradients go over MPI (TCP), not node-local shared memory.
grep -q '| np3 |.*| allreduce |' "$out/report.md" || fail "the 3-host runs did not average over MPI"
eff=$(sed -n 's/^| np3 | 2 | [^|]* | [^|]* | [^|]* | [^|]* | [^|]* | \([0-9.]*\) |.*/\1/p' "$out/report.md")
echo "scale-netns: OK (3 namespace hosts over TCP, 6 runs, report and plots; np3 weak-scaling efficiency ${eff:-?})"
