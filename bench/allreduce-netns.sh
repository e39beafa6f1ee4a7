#!/usr/bin/env bash
# Bus bandwidth of the hierarchical allreduce against flat MPI_Allreduce on 2
# network-namespace hosts × 2 ranks (cluster/netns.sh: shared memory inside a host,
# TCP between hosts): ROUNDS launches of `cohort bench allreduce --worker --allreduce
# hierarchical`, which alternates the two call by call on the same buffer; prints the
# median µs and bus bandwidth 2(n−1)/n·bytes/time per size, 64 KiB … 64 MiB (docs/scaling.md
# has figures). Ranks yield when idle (mpi_yield_when_idle): the hosts share this machine's cores.
# COHORT_NETNS_RATE (e.g. 1gbit) limits each host's link; COHORT_NETNS_BTL=tcp,self sends
# a host's own traffic over TCP too. COHORT_NETNS_MPI_ARGS adds mpirun arguments, e.g.
# "--mca coll_tuned_use_dynamic_rules 1 --mca coll_tuned_allreduce_algorithm 6" to force one of
# Open MPI's allreduce algorithms (both sides use it). The load average (/proc/loadavg) is
# recorded before the first and after the last round and printed with the figures.
# COHORT_NETNS_LAYOUTS="2x1 1x2 2x2" measures several HOSTSxRANKS layouts instead, interleaved: every
# round runs each once, starting at a different one, so a drifting machine hits them alike.
# Needs root and iproute2.
#
#   bench/allreduce-netns.sh [--json] [ROUNDS=3] [HOSTS=2] [RANKS_PER_HOST=2]   (COHORT_BIN: the release binary)
# --json prints `RESULT {…}` lines instead (nodes, ranks_per_node, bytes, hierarchical_us, flat_us, each round's
# medians in hierarchical_us_rounds and flat_us_rounds, load_avg_start, load_avg_end, …):
# what `cohort scale project --hierarchical FILE` fits and checks its two-level model on.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
JSON=0; if [ "${1:-}" = --json ]; then JSON=1; shift; fi
ROUNDS=${1:-3}; HOSTS=${2:-2}; PER=${3:-2}
BIN=$(realpath "${COHORT_BIN:-.build/release/cohort}")
export COHORT_NETNS_PREFIX=${COHORT_NETNS_PREFIX:-cohbench} COHORT_NETNS_NET=${COHORT_NETNS_NET:-10.208.0}
export COHORT_NETNS_BTL=${COHORT_NETNS_BTL:-vader,tcp,self}
LAYOUTS=(${COHORT_NETNS_LAYOUTS:-${HOSTS}x$PER})
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cut -d' ' -f1-3 /proc/loadavg > "$work/load-start"
for r in $(seq 1 "$ROUNDS"); do
  for k in $(seq 0 $((${#LAYOUTS[@]} - 1))); do   # each round starts at another layout
    layout=${LAYOUTS[$(((k + r - 1) % ${#LAYOUTS[@]}))]}; h=${layout%x*}; l=${layout#*x}
    # shellcheck disable=SC2086 # COHORT_NETNS_MPI_ARGS is a list of arguments
    COHORT_NETNS_SLOTS=$l timeout 900 cluster/netns.sh run "$h" -- --mca mpi_yield_when_idle 1 ${COHORT_NETNS_MPI_ARGS:-} -np $((h * l)) \
      "$BIN" bench allreduce --worker --allreduce hierarchical > "$work/$layout-$r" 2> "$work/$layout-$r.err" || { cat "$work/$layout-$r.err" >&2; exit 1; }
  done
done
cut -d' ' -f1-3 /proc/loadavg > "$work/load-end"
python3 - "$work" "$ROUNDS" "$JSON" "${COHORT_NETNS_RATE:-}" "${COHORT_NETNS_MPI_ARGS:-}" "${LAYOUTS[@]}" <<'PY'
import json, statistics, sys
work, rounds, as_json, rate, mpi_args, layouts = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4], sys.argv[5], sys.argv[6:]
load = [open(f"{work}/load-{w}").read().strip() for w in ("start", "end")]
for layout in layouts:
    hosts, per = map(int, layout.split("x"))
    n = hosts * per
    hier, flat = {}, {}
    for r in range(1, rounds + 1):
        for line in open(f"{work}/{layout}-{r}"):
            f = line.split()
            if len(f) == 3 and f[0].isdigit():
                hier.setdefault(int(f[0]), []).append(float(f[1])); flat.setdefault(int(f[0]), []).append(float(f[2]))
    if not as_json:
        print(f"{hosts} hosts × {per} ranks, {rounds} rounds (medians), link {rate or 'unshaped'}{', ' + mpi_args if mpi_args else ''}; "
              f"load average {load[0]} before, {load[1]} after")
        print("bytes        hier µs     flat µs   hier GB/s   flat GB/s   hier ÷ flat (bus bw)")
    for b in sorted(hier):
        th, tf = statistics.median(hier[b]), statistics.median(flat[b])
        bw = lambda t: 2 * (n - 1) / n * b / t / 1e9
        if as_json:
            print("RESULT " + json.dumps({"workload": "allreduce", "nodes": hosts, "ranks_per_node": per, "ranks": n, "bytes": b,
                                          "hierarchical_us": th * 1e6, "flat_us": tf * 1e6, "hierarchical_bus_gb_per_s": bw(th),
                                          "flat_bus_gb_per_s": bw(tf), "rounds": rounds, "rate": rate, "mpirun_args": mpi_args,
                                          "hierarchical_us_rounds": [round(t * 1e6, 1) for t in hier[b]],
                                          "flat_us_rounds": [round(t * 1e6, 1) for t in flat[b]],
                                          "load_avg_start": load[0], "load_avg_end": load[1]}, sort_keys=True))
        else:
            print(f"{b:<12d} {th * 1e6:10.1f} {tf * 1e6:10.1f} {bw(th):11.3f} {bw(tf):11.3f} {tf / th:10.2f}")
PY
