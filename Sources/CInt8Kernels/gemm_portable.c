/* The portable int8 GEMM and the helpers every kernel shares (row sums,
 * quantization, im2row). Plain C the compiler may vectorise for the build's baseline. */
#include "cohort_int8.h"
#include "kernels.h"
#include "epilogue.h"
#include <math.h>

void cohort_i8_gemm_portable(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                             const int8_t *b, size_t ldb, int32_t *c, size_t ldc) {
    for (size_t i = 0; i < m; i++) {
        const uint8_t *ar = a + i * lda;
        for (size_t j = 0; j < n; j++) {
            const int8_t *br = b + j * ldb;
            int32_t s = 0;
            for (size_t p = 0; p < k; p++) s += (int32_t)ar[p] * (int32_t)br[p];
            c[i * ldc + j] = s;
        }
    }
}

void cohort_i8_row_sums(size_t n, size_t k, const int8_t *b, size_t ldb, int32_t *sums) {
    for (size_t r = 0; r < n; r++) {
        int32_t s = 0;
        for (size_t p = 0; p < k; p++) s += b[r * ldb + p];
        sums[r] = s;
    }
}

void cohort_i8_im2row(const uint8_t *image, size_t channels, size_t height, size_t width,
                      size_t kh, size_t kw, size_t sh, size_t sw, size_t ph, size_t pw,
                      size_t dh, size_t dw, size_t oh, size_t ow, uint8_t *out) {
    size_t kk = channels * kh * kw;
    for (size_t oy = 0; oy < oh; oy++)
        for (size_t ox = 0; ox < ow; ox++) {
            uint8_t *row = out + (oy * ow + ox) * kk;
            for (size_t c = 0; c < channels; c++)
                for (size_t i = 0; i < kh; i++) {
                    long y = (long)(oy * sh + i * dh) - (long)ph;
                    for (size_t j = 0; j < kw; j++) {
                        long x = (long)(ox * sw + j * dw) - (long)pw;
                        *row++ = (y < 0 || y >= (long)height || x < 0 || x >= (long)width)
                                     ? 128 : image[(c * height + (size_t)y) * width + (size_t)x];
                    }
                }
        }
}


/* The row quantization and the epilogue, each compiled for the instruction set of the
 * selected GEMM kernel (the package's baseline is SSE2): the same C, wider vectors. */
#if defined(__x86_64__)
#define VARIANT(suffix, isa) \
    __attribute__((target(isa))) static void quantize_rows_##suffix(size_t rows, size_t cols, const float *x, size_t ldx, \
        uint8_t *q, size_t ldq, float *scale, int dynamic) { quantize_rows_body(rows, cols, x, ldx, q, ldq, scale, dynamic); } \
    __attribute__((target(isa))) static void dequantize_##suffix(size_t m, size_t n, const int32_t *acc, const int32_t *sums, \
        const float *row_scale, size_t rows_per_scale, const float *col_scale, const float *bias, int relu, int nchw, float *y) { \
        dequantize_body(m, n, acc, sums, row_scale, rows_per_scale, col_scale, bias, relu, nchw, y); }
VARIANT(avx2, "avx2,fma")
VARIANT(avx512, "avx512f,avx512bw,avx512vl,avx2,fma")
#endif

void cohort_i8_quantize_rows(size_t rows, size_t cols, const float *x, size_t ldx,
                             uint8_t *q, size_t ldq, float *scale, int dynamic) {
#if defined(__x86_64__)
    switch (cohort_i8_selected_kernel()) {
    case COHORT_I8_VNNI: quantize_rows_avx512(rows, cols, x, ldx, q, ldq, scale, dynamic); return;
    case COHORT_I8_AVX2: quantize_rows_avx2(rows, cols, x, ldx, q, ldq, scale, dynamic); return;
    default: break;
    }
#endif
    quantize_rows_body(rows, cols, x, ldx, q, ldq, scale, dynamic);
}

void cohort_i8_dequantize(size_t m, size_t n, const int32_t *acc, const int32_t *sums, const float *row_scale,
                          size_t rows_per_scale, const float *col_scale, const float *bias, int relu, int nchw, float *y) {
#if defined(__x86_64__)
    switch (cohort_i8_selected_kernel()) {
    case COHORT_I8_VNNI: dequantize_avx512(m, n, acc, sums, row_scale, rows_per_scale, col_scale, bias, relu, nchw, y); return;
    case COHORT_I8_AVX2: dequantize_avx2(m, n, acc, sums, row_scale, rows_per_scale, col_scale, bias, relu, nchw, y); return;
    default: break;
    }
#endif
    dequantize_body(m, n, acc, sums, row_scale, rows_per_scale, col_scale, bias, relu, nchw, y);
}
