#!/usr/bin/env bash
# mpirun's launch agent for cluster/netns.sh: called like ssh (`agent HOST COMMAND…`),
# it runs COMMAND inside the namespace that owns HOST's address, with its own TMPDIR
# (all namespaces share /tmp and the host name, so session directories would collide).
set -euo pipefail
PREFIX=${COHORT_NETNS_PREFIX:-cohort}
NET=${COHORT_NETNS_NET:-10.201.0}
while [[ "${1:-}" == -* ]]; do shift; done      # ssh-style options, if any
host=$1; shift
i=$(( ${host##*.} - 10 ))
# Like ssh, fail when the host is unreachable (its link was cut by a test).
if ! ip -n "$PREFIX-h$i" link show eth0 2>/dev/null | grep -q "state UP"; then
  echo "ssh: connect to host $host port 22: No route to host" >&2
  exit 255
fi
# Open MPI's shared-memory transport (COHORT_NETNS_BTL=vader,…) names its segments in /dev/shm
# by host name and local rank, which every namespace shares: each host gets its own directory.
exec ip netns exec "$PREFIX-h$i" env TMPDIR="/tmp/$PREFIX-netns-h$i" OMPI_MCA_btl_vader_backing_directory="/tmp/$PREFIX-netns-h$i" bash -c "$*"
