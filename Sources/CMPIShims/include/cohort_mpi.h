/* OpenMPI handles and constants as functions: MPI_COMM_WORLD, MPI_FLOAT,
 * MPI_SUM, MPI_IN_PLACE … are macros over incomplete structs that Swift
 * cannot import (the same pattern as swift-nio's CNIOLinux shims). */
#ifndef COHORT_MPI_SHIMS_H
#define COHORT_MPI_SHIMS_H
#include <mpi.h>

MPI_Comm cohort_mpi_comm_world(void);
MPI_Comm cohort_mpi_comm_null(void);
MPI_Datatype cohort_mpi_float(void);
MPI_Datatype cohort_mpi_double(void);
MPI_Datatype cohort_mpi_int32(void);
MPI_Datatype cohort_mpi_int64(void);
MPI_Datatype cohort_mpi_uint8(void);
MPI_Op cohort_mpi_op_sum(void);
MPI_Op cohort_mpi_op_max(void);
MPI_Op cohort_mpi_op_min(void);
MPI_Datatype cohort_mpi_uint16(void);
/* The sum operator of 16-bit float words carried as MPI_UINT16_T: format 0 bfloat16,
 * 1 IEEE binary16 (cohort_half.h), rounded after each addition. Created at first use;
 * returns an MPI error code. */
int cohort_mpi_op_half_sum(int format, MPI_Op *op);
void *cohort_mpi_in_place(void);
MPI_Request cohort_mpi_request_null(void);
MPI_Info cohort_mpi_info_null(void);
MPI_Errhandler cohort_mpi_errors_return(void);
int cohort_mpi_success(void);
int cohort_mpi_thread_funneled(void);
int cohort_mpi_thread_serialized(void);
int cohort_mpi_thread_multiple(void);
int cohort_mpi_comm_type_shared(void);
int cohort_mpi_undefined(void);
int cohort_mpi_any_source(void);
int cohort_mpi_max_processor_name(void);
int cohort_mpi_max_error_string(void);

/* Node-local shared memory for gradient averaging without copies: a window of
 * `bytes` on each rank of a shared-memory communicator (non-contiguous
 * allocation), and every rank's base address in this process. */
int cohort_shm_window_allocate(MPI_Comm node, size_t bytes, void **base, MPI_Win *win);
int cohort_shm_window_query(MPI_Win win, int rank, void **base);
int cohort_shm_window_free(MPI_Win *win);

/* Flags in that memory: the CAtomics target. */

#endif
