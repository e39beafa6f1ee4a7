/* The kernels behind cohort_i8_gemm (internal to CInt8Kernels). */
#ifndef COHORT_INT8_KERNELS_H
#define COHORT_INT8_KERNELS_H
#include <stddef.h>
#include <stdint.h>
typedef void (*cohort_i8_gemm_fn)(size_t, size_t, size_t, const uint8_t *, size_t, const int8_t *, size_t, int32_t *, size_t);
void cohort_i8_gemm_portable(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const int8_t *b, size_t ldb, int32_t *c, size_t ldc);
#if defined(__x86_64__)
void cohort_i8_gemm_avx2(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const int8_t *b, size_t ldb, int32_t *c, size_t ldc);
void cohort_i8_gemm_vnni(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const int8_t *b, size_t ldb, int32_t *c, size_t ldc);
#endif
#endif
