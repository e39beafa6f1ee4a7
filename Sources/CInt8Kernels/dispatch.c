/* Kernel selection for cohort_i8_gemm: once, at first use (pthread_once), from
 * COHORT_INT8_KERNEL or the CPU's features (docs/environment.md). */
#include "cohort_int8.h"
#include "kernels.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[COHORT_I8_KERNEL_COUNT] = {"portable", "avx2", "vnni"};
static int selected = -1;
static char selection_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

int cohort_i8_kernel_supported(int kernel) {
    switch (kernel) {
    case COHORT_I8_PORTABLE: return 1;
#if defined(__x86_64__)
    case COHORT_I8_AVX2: return __builtin_cpu_supports("avx2") ? 1 : 0;
    case COHORT_I8_VNNI:
        return (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                __builtin_cpu_supports("avx512vnni")) ? 1 : 0;
#endif
    default: return 0;
    }
}

const char *cohort_i8_kernel_name(int kernel) {
    return (kernel >= 0 && kernel < COHORT_I8_KERNEL_COUNT) ? names[kernel] : NULL;
}

static void select_kernel(void) {
    const char *forced = getenv("COHORT_INT8_KERNEL");
    if (forced && *forced) {
        for (int i = 0; i < COHORT_I8_KERNEL_COUNT; i++) {
            if (strcmp(forced, names[i]) != 0) continue;
            if (cohort_i8_kernel_supported(i)) { selected = i; return; }
            snprintf(selection_error, sizeof selection_error,
                     "COHORT_INT8_KERNEL=%s, but this CPU lacks the instructions it needs", forced);
            return;
        }
        snprintf(selection_error, sizeof selection_error,
                 "COHORT_INT8_KERNEL=%.100s is not a kernel; use vnni, avx2 or portable", forced);
        return;
    }
    for (int i = COHORT_I8_KERNEL_COUNT - 1; i >= 0; i--)
        if (cohort_i8_kernel_supported(i)) { selected = i; return; }
}

int cohort_i8_selected_kernel(void) {
    pthread_once(&once, select_kernel);
    return selected;
}

const char *cohort_i8_selection_error(void) {
    pthread_once(&once, select_kernel);
    return selection_error;
}

int cohort_i8_gemm_with(int kernel, size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                        const int8_t *b, size_t ldb, int32_t *c, size_t ldc) {
    if (!cohort_i8_kernel_supported(kernel)) return -1;
    switch (kernel) {
#if defined(__x86_64__)
    case COHORT_I8_VNNI: cohort_i8_gemm_vnni(m, n, k, a, lda, b, ldb, c, ldc); return 0;
    case COHORT_I8_AVX2: cohort_i8_gemm_avx2(m, n, k, a, lda, b, ldb, c, ldc); return 0;
#endif
    default: cohort_i8_gemm_portable(m, n, k, a, lda, b, ldb, c, ldc); return 0;
    }
}

int cohort_i8_gemm(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                   const int8_t *b, size_t ldb, int32_t *c, size_t ldc) {
    int kernel = cohort_i8_selected_kernel();
    if (kernel < 0) return -1;
    return cohort_i8_gemm_with(kernel, m, n, k, a, lda, b, ldb, c, ldc);
}
