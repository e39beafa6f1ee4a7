#!/usr/bin/env bash
# Several "hosts" on one machine for multi-node tests: a head network namespace
# with a bridge, one namespace per host with a veth into it, addresses from a
# subnet used only inside these namespaces (platform-notes.md has the recipe).
#   cluster/netns.sh up N        create head + N hosts (10.201.0.11 … )
#   cluster/netns.sh down        remove them (also run on every exit path by run)
#   cluster/netns.sh run N -- ARGS…   up N, run `mpirun ARGS…` across the hosts, down
# COHORT_NETNS_RATE (e.g. 1gbit, 10gbit; tc's units) limits every host's outgoing link
# to that rate with a token bucket, to emulate a real network's bandwidth.
# COHORT_NETNS_SLOTS (e.g. 2) gives every host that many slots (ranks are placed host by
# host); COHORT_NETNS_BTL (default tcp,self) picks Open MPI's transports, e.g. vader,tcp,self
# for shared memory between the ranks of one host.
# Needs root and iproute2.
set -euo pipefail
PREFIX=${COHORT_NETNS_PREFIX:-cohort}
NET=${COHORT_NETNS_NET:-10.201.0}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

hosts() {
  local n=$1 i out="" slots=${COHORT_NETNS_SLOTS:+:$COHORT_NETNS_SLOTS}
  for ((i = 1; i <= n; i++)); do out+="${out:+,}$NET.$((10 + i))$slots"; done; echo "$out"
}

down() {
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PREFIX-" || true); do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "/tmp/$PREFIX-netns-"*
}

up() {
  local n=$1 i
  down
  ip netns add "$PREFIX-head"
  ip -n "$PREFIX-head" link set lo up
  ip -n "$PREFIX-head" link add br0 type bridge
  ip -n "$PREFIX-head" addr add "$NET.1/24" dev br0
  ip -n "$PREFIX-head" link set br0 up
  for ((i = 1; i <= n; i++)); do
    ip netns add "$PREFIX-h$i"
    ip -n "$PREFIX-h$i" link set lo up
    ip -n "$PREFIX-head" link add "vh$i" type veth peer name eth0 netns "$PREFIX-h$i"
    ip -n "$PREFIX-head" link set "vh$i" master br0 up
    ip -n "$PREFIX-h$i" addr add "$NET.$((10 + i))/24" dev eth0
    ip -n "$PREFIX-h$i" link set eth0 up
    if [ -n "${COHORT_NETNS_RATE:-}" ]; then
      ip netns exec "$PREFIX-h$i" tc qdisc add dev eth0 root tbf rate "$COHORT_NETNS_RATE" burst 512kb latency 100ms
    fi
    mkdir -p "/tmp/$PREFIX-netns-h$i"
  done
  mkdir -p "/tmp/$PREFIX-netns-head"
}

case "${1:-}" in
  up) up "${2:?number of hosts}" ;;
  down) down ;;
  run)
    n=${2:?number of hosts}; shift 2; [ "${1:-}" = "--" ] && shift
    trap down EXIT INT TERM
    up "$n"
    COHORT_NETNS_PREFIX=$PREFIX COHORT_NETNS_NET=$NET \
    ip netns exec "$PREFIX-head" env TMPDIR="/tmp/$PREFIX-netns-head" \
      mpirun --allow-run-as-root --host "$(hosts "$n")" --bind-to none \
        --mca plm_rsh_agent "$HERE/netns-agent.sh" \
        --mca btl "${COHORT_NETNS_BTL:-tcp,self}" --mca btl_tcp_if_include "$NET.0/24" --mca oob_tcp_if_include "$NET.0/24" \
        --mca pml ob1 --mca osc ^ucx \
        -x OMPI_ALLOW_RUN_AS_ROOT=1 -x OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
        "$@"
    ;;
  *) echo "usage: $0 up N | down | run N -- mpirun-args…" >&2; exit 2 ;;
esac
