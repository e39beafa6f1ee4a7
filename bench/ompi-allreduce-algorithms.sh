#!/usr/bin/env bash
# Which algorithm Open MPI's MPI_Allreduce (float sum, in place) runs at each size, traced
# rather than guessed: a small C program calls it once per size 4 B … 64 MiB over NP ranks,
# and rank 0 runs under gdb with a breakpoint on every ompi_coll_base_allreduce_intra_*
# function, printing which one each call reached. `cohort scale project --hierarchical`
# models these choices (Sources/CohortScale/MPIAllreduceAlgorithm.swift; docs/scaling.md).
# Extra arguments go to mpirun, e.g. --mca coll_tuned_use_dynamic_rules 1 --mca
# coll_tuned_allreduce_algorithm 4 to see a forced choice. Needs mpicc and gdb.
#
#   bench/ompi-allreduce-algorithms.sh [NP=4] [mpirun arguments…]
set -euo pipefail
NP=${1:-4}; shift || true
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/ar.c" <<'C'
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank; MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  long sizes[] = {4, 8, 16, 4096, 8192, 16384, 65536, 262144, 1 << 20, 4 << 20, 16 << 20, 64 << 20};
  float *b = calloc(64 << 20, 1);
  for (int k = 0; k < 12; k++) {
    if (rank == 0) { printf("SIZE %ld\n", sizes[k]); fflush(stdout); }
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, b, (int)(sizes[k] / 4), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    MPI_Barrier(MPI_COMM_WORLD);
  }
  free(b); MPI_Finalize(); return 0;
}
C
mpicc -O2 -o "$work/ar" "$work/ar.c"
cat > "$work/cmds.gdb" <<'GDB'
set pagination off
break main
run
rbreak ^ompi_coll_base_allreduce_intra_[a-z_]*$
commands 2-7
silent
printf "HIT %s\n", $_as_string($pc)
continue
end
continue
GDB
cat > "$work/rank.sh" <<SH
#!/bin/sh
if [ "\$OMPI_COMM_WORLD_RANK" = 0 ]; then exec gdb -q -batch -x "$work/cmds.gdb" --args "\$@" > "$work/gdb.log" 2>&1; else exec "\$@"; fi
SH
chmod +x "$work/rank.sh"
mpirun --allow-run-as-root --oversubscribe --bind-to none --mca pml ob1 --mca btl vader,self "$@" -np "$NP" "$work/rank.sh" "$work/ar" > /dev/null
echo "Open MPI $(ompi_info --version 2>/dev/null | head -1 | awk '{print $NF}'), $NP ranks: bytes → algorithm function(s) reached"
python3 - "$work/gdb.log" <<'PY'
import re, sys
size, hits = None, {}
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("SIZE "): size = int(line.split()[1]); hits[size] = []
    m = re.search(r"<ompi_coll_base_allreduce_intra_(\w+)", line)
    if m and line.startswith("HIT") and size is not None: hits[size].append(m.group(1))
for s, h in hits.items(): print(f"{s:>10d}  {' → '.join(h) or '(none)'}")
PY
