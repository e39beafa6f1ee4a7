/* Returns OpenMPI's macro handles to Swift (see cohort_mpi.h). */
#include "cohort_mpi.h"
#include "cohort_half.h"

MPI_Comm cohort_mpi_comm_world(void) { return MPI_COMM_WORLD; }
MPI_Comm cohort_mpi_comm_null(void) { return MPI_COMM_NULL; }
MPI_Datatype cohort_mpi_float(void) { return MPI_FLOAT; }
MPI_Datatype cohort_mpi_double(void) { return MPI_DOUBLE; }
MPI_Datatype cohort_mpi_int32(void) { return MPI_INT32_T; }
MPI_Datatype cohort_mpi_int64(void) { return MPI_INT64_T; }
MPI_Datatype cohort_mpi_uint8(void) { return MPI_UINT8_T; }
MPI_Op cohort_mpi_op_sum(void) { return MPI_SUM; }
MPI_Op cohort_mpi_op_max(void) { return MPI_MAX; }
MPI_Op cohort_mpi_op_min(void) { return MPI_MIN; }
MPI_Datatype cohort_mpi_uint16(void) { return MPI_UINT16_T; }

/* Sums of 16-bit float words (bfloat16, binary16): MPI has no such types, so the
 * words travel as MPI_UINT16_T and these user operators add them as floats,
 * rounding after each addition. Created at first use (after MPI_Init), kept for
 * the process's life (MPI_Finalize frees them). */
static void bf16_sum(void *in, void *inout, int *len, MPI_Datatype *type) {
    (void)type;
    cohort_half_sum(COHORT_HALF_BF16, (const uint16_t *)in, (uint16_t *)inout, (size_t)*len);
}
static void f16_sum(void *in, void *inout, int *len, MPI_Datatype *type) {
    (void)type;
    cohort_half_sum(COHORT_HALF_FP16, (const uint16_t *)in, (uint16_t *)inout, (size_t)*len);
}
static MPI_Op half_ops[2] = {MPI_OP_NULL, MPI_OP_NULL};

int cohort_mpi_op_half_sum(int format, MPI_Op *op) {
    if (format != COHORT_HALF_BF16 && format != COHORT_HALF_FP16) return MPI_ERR_OP;
    if (half_ops[format] == MPI_OP_NULL) {
        int rc = MPI_Op_create(format == COHORT_HALF_BF16 ? bf16_sum : f16_sum, 1, &half_ops[format]);
        if (rc != MPI_SUCCESS) return rc;
    }
    *op = half_ops[format];
    return MPI_SUCCESS;
}
void *cohort_mpi_in_place(void) { return MPI_IN_PLACE; }
MPI_Request cohort_mpi_request_null(void) { return MPI_REQUEST_NULL; }
MPI_Info cohort_mpi_info_null(void) { return MPI_INFO_NULL; }
MPI_Errhandler cohort_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
int cohort_mpi_success(void) { return MPI_SUCCESS; }
int cohort_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
int cohort_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
int cohort_mpi_thread_multiple(void) { return MPI_THREAD_MULTIPLE; }
int cohort_mpi_comm_type_shared(void) { return MPI_COMM_TYPE_SHARED; }
int cohort_mpi_undefined(void) { return MPI_UNDEFINED; }
int cohort_mpi_any_source(void) { return MPI_ANY_SOURCE; }
int cohort_mpi_max_processor_name(void) { return MPI_MAX_PROCESSOR_NAME; }
int cohort_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }

int cohort_shm_window_allocate(MPI_Comm node, size_t bytes, void **base, MPI_Win *win) {
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true");
    int rc = MPI_Win_allocate_shared((MPI_Aint)bytes, 1, info, node, base, win);
    MPI_Info_free(&info);
    return rc;
}

int cohort_shm_window_query(MPI_Win win, int rank, void **base) {
    MPI_Aint size;
    int disp;
    return MPI_Win_shared_query(win, rank, &size, &disp, base);
}

int cohort_shm_window_free(MPI_Win *win) { return MPI_Win_free(win); }
