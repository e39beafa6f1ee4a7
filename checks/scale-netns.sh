#!/usr/bin/env bash
# A scaling sweep across 3 network-namespace "hosts" over TCP: `cohort scale
# --netns-hosts 3` creates them (cluster/netns.sh), runs every configuration as a
# `cohort launch` job from the head namespace, removes them, and must finish
# unattended with report.md, results.jsonl/csv and SVG plots that parse as XML.
# Needs root and iproute2; skipped otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN=${COHORT_BIN:-$PWD/.build/release/cohort}
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
  echo "scale-netns: skipped (needs root and iproute2 with network namespaces)"
  exit 0
fi
work=$(mktemp -d)
trap '[ -n "${COHORT_SCALE_KEEP:-}" ] && cp -r "$work/." "$COHORT_SCALE_KEEP/"; rm -rf "$work"; COHORT_NETNS_PREFIX=cohscale cluster/netns.sh down' EXIT
fail() { echo "scale-netns: FAILED ($1)"; tail -30 "$work/log"; exit 1; }
out="$work/sweep"
timeout 600 "$BIN" scale --mode weak --ranks 1,2,3 --repeats 2 --steps 10 --warmup 2 --netns-hosts 3 \
  --out "$out" -- --hidden 256 --global-batch 64 > "$work/log" 2>&1 || fail "the sweep"
[ "$(wc -l < "$out/results.jsonl")" -eq 6 ] || fail "expected 6 runs in results.jsonl"
[ "$(grep -c ',ok,' "$out/results.csv")" -eq 6 ] || fail "not every run succeeded: $(cat "$out/results.csv")"
for r in np1 np2 np3; do grep -q "| $r | 2 |" "$out/report.md" || fail "report.md has no row for $r"; done
for p in throughput efficiency breakdown; do
  python3 -c 'import sys, xml.etree.ElementTree as E; sys.exit(0 if E.parse(sys.argv[1]).getroot().tag.endswith("svg") else 1)' \
    "$out/plots/$p.svg" || fail "plots/$p.svg is not valid SVG"
done
# Across hosts the gradients go over MPI (TCP), not node-local shared memory; the namespaces are gone.
grep -q '| np3 |.*| allreduce |' "$out/report.md" || fail "the 3-host runs did not average over MPI"
! ip netns list | grep -q '^cohscale-' || fail "the sweep left its namespaces behind"
eff=$(sed -n 's/^| np3 | 2 | [^|]* | [^|]* | [^|]* | [^|]* | [^|]* | \([0-9.]*\) |.*/\1/p' "$out/report.md")
echo "scale-netns: OK (3 namespace hosts over TCP, 6 runs, report and plots; np3 weak-scaling efficiency ${eff:-?} on 2 shared cores)"
