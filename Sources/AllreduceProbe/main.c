/* Raw MPI_Allreduce (float sum, in place) timing for 4 B … 64 MiB: the reference
 * `cohort bench allreduce` compares its wrapper against, in the same run.
 * Prints one line per size on rank 0: "size_bytes median_seconds". */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    size_t max = (size_t)64 << 20;
    float *buf = malloc(max);
    for (size_t i = 0; i < max / 4; i++) buf[i] = 1.0f;
    for (size_t bytes = 4; bytes <= max; bytes *= 4) {
        int count = (int)(bytes / 4);
        int iters = bytes <= (1 << 20) ? 200 : 20;
        double t[200];
        for (int w = 0; w < 5; w++) MPI_Allreduce(MPI_IN_PLACE, buf, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        for (int i = 0; i < iters; i++) {
            MPI_Barrier(MPI_COMM_WORLD);
            double t0 = MPI_Wtime();
            MPI_Allreduce(MPI_IN_PLACE, buf, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            t[i] = MPI_Wtime() - t0;
        }
        qsort(t, iters, sizeof(double), cmp);
        if (rank == 0) printf("%zu %.9f\n", bytes, t[iters / 2]);
    }
    free(buf);
    MPI_Finalize();
    return 0;
}
