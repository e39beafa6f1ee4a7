/* int8 GEMM for Cohort's quantized inference (CohortQuantize): C[M,N] (int32) =
 * A[M,K] (uint8) · B[N,K]ᵀ (int8), both row-major with K contiguous — A holds
 * activations shifted by +128 (zero point 128), B holds weights, one output channel
 * per row. The product is exact (no saturation in any kernel); the caller removes the
 * shift with 128·Σ_k B[n,k] (cohort_i8_row_sums). Kernels: AVX-512 VNNI
 * (vpdpbusd), AVX2 (widened to int16, vpmaddwd) and portable C, chosen once at first
 * use (COHORT_INT8_KERNEL=vnni|avx2|portable forces one). docs/quantized-format.md. */
#ifndef COHORT_INT8_H
#define COHORT_INT8_H
#include <stddef.h>
#include <stdint.h>

enum {
    COHORT_I8_PORTABLE = 0,
    COHORT_I8_AVX2 = 1,
    COHORT_I8_VNNI = 2,
    COHORT_I8_KERNEL_COUNT = 3
};

/* Whether this CPU (and this build) can run `kernel`. */
int cohort_i8_kernel_supported(int kernel);
/* The kernel's name: "portable", "avx2", "vnni" (NULL for an unknown id). */
const char *cohort_i8_kernel_name(int kernel);
/* The kernel every cohort_i8_gemm call uses: COHORT_INT8_KERNEL if set (or -1 when it
 * names an unknown kernel or one this CPU lacks: see cohort_i8_selection_error), else
 * the fastest supported. Selected once; thread-safe. */
int cohort_i8_selected_kernel(void);
/* Why the COHORT_INT8_KERNEL selection failed (empty when it did not). */
const char *cohort_i8_selection_error(void);

/* C = A·Bᵀ with the selected kernel; lda, ldb, ldc are row strides in elements.
 * Returns 0, or -1 when no kernel is selected. */
int cohort_i8_gemm(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                   const int8_t *b, size_t ldb, int32_t *c, size_t ldc);
/* The same with `kernel`; returns -1 when it is unsupported. */
int cohort_i8_gemm_with(int kernel, size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                        const int8_t *b, size_t ldb, int32_t *c, size_t ldc);
/* sums[r] = Σ_k B[r,k] for r < n. */
void cohort_i8_row_sums(size_t n, size_t k, const int8_t *b, size_t ldb, int32_t *sums);

/* Quantizes rows of fp32 x[rows, cols] (stride ldx) to uint8 with zero point 128:
 * q = clamp(round(x / scale[r]), -127, 127) + 128, scale[r] = max|x[r,:]| / 127
 * (1 for an all-zero row) when `dynamic`, else the given scale[0] for every row. */
void cohort_i8_quantize_rows(size_t rows, size_t cols, const float *x, size_t ldx,
                             uint8_t *q, size_t ldq, float *scale, int dynamic);

/* im2row of one uint8 image [C, H, W] (zero point 128, so padding is 128): out[p, k] for
 * output position p = oy·ow + ox and k = (c·kh + i)·kw + j — one row per output position,
 * K = C·kh·kw contiguous. */
void cohort_i8_im2row(const uint8_t *image, size_t channels, size_t height, size_t width,
                      size_t kh, size_t kw, size_t sh, size_t sw, size_t ph, size_t pw,
                      size_t dh, size_t dw, size_t oh, size_t ow, uint8_t *out);

/* The GEMM's epilogue: y[i, j] = (acc[i, j] - 128·sums[j]) · row_scale[i / rows_per_scale] · col_scale[j]
 * + bias[j] (bias may be NULL), then max(·, 0) when `relu`. Layout: `nchw` 0 writes y as [m, n];
 * `nchw` 1 reads acc as [batch, positions, n] (m = batch·positions) and writes y as
 * [batch, n, positions], the convolution's output, with rows_per_scale = positions. */
void cohort_i8_dequantize(size_t m, size_t n, const int32_t *acc, const int32_t *sums, const float *row_scale,
                          size_t rows_per_scale, const float *col_scale, const float *bias, int relu, int nchw, float *y);
/* The fused linear layer of the VNNI kernel (linear_vnni.c). Weights b[n, k] are packed once
 * into cohort_i8_packed_size(n, k) bytes: 16-channel panels (the last zero-padded), each
 * ceil(k/4) groups of 64 bytes = 16 channels × 4 consecutive k (zero past k). */
size_t cohort_i8_packed_size(size_t n, size_t k);
void cohort_i8_pack(size_t n, size_t k, const int8_t *b, size_t ldb, int8_t *packed);
/* y[i, j] = (Σ_k a[i,k]·b[j,k] − 128·sums[j]) · row_scale[i] · col_scale[j] + bias[j] (bias may be
 * NULL), then max(·, 0) when `relu`, for a[m, k] uint8 (zero point 128, row stride lda) and
 * `packed` from cohort_i8_pack; y row stride ldy. Returns 0, or -1 when the CPU lacks VNNI
 * (callers then use cohort_i8_gemm + cohort_i8_dequantize). */
int cohort_i8_linear_packed(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const int8_t *packed,
                            const int32_t *sums, const float *row_scale, const float *col_scale, const float *bias,
                            int relu, float *y, size_t ldy);
#endif
