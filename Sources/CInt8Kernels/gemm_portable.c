/* The portable int8 GEMM and the helpers every kernel shares (row sums,
 * quantization, im2row). Plain C the compiler may vectorise for the build's baseline. */
#include "cohort_int8.h"
#include "kernels.h"
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

void cohort_i8_quantize_rows(size_t rows, size_t cols, const float *x, size_t ldx,
                             uint8_t *q, size_t ldq, float *scale, int dynamic) {
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * ldx;
        float s;
        if (dynamic) {
            float m = 0;
            for (size_t j = 0; j < cols; j++) { float v = fabsf(xr[j]); if (v > m) m = v; }
            s = m > 0 ? m / 127.0f : 1.0f;
            scale[r] = s;
        } else {
            s = scale[0];
        }
        float inv = 1.0f / s;
        uint8_t *qr = q + r * ldq;
        /* Clamp, then round half to even by adding and removing 1.5·2^23 (exact for |v| ≤ 127;
         * vectorises, where nearbyintf is a library call per element). */
        for (size_t j = 0; j < cols; j++) {
            float v = xr[j] * inv;
            v = fminf(fmaxf(v, -127.0f), 127.0f);
            v = (v + 12582912.0f) - 12582912.0f;
            qr[j] = (uint8_t)((int)v + 128);
        }
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

void cohort_i8_dequantize(size_t m, size_t n, const int32_t *acc, const int32_t *sums, const float *row_scale,
                          size_t rows_per_scale, const float *col_scale, const float *bias, int relu, int nchw, float *y) {
    for (size_t i = 0; i < m; i++) {
        float rs = row_scale[i / rows_per_scale];
        const int32_t *ar = acc + i * n;
        float *yr = nchw ? y + (i / rows_per_scale) * n * rows_per_scale + i % rows_per_scale : y + i * n;
        size_t step = nchw ? rows_per_scale : 1;
        if (step == 1) {   /* contiguous: a loop the compiler vectorises */
            for (size_t j = 0; j < n; j++) {
                float v = (float)(ar[j] - 128 * sums[j]) * (rs * col_scale[j]) + (bias ? bias[j] : 0.0f);
                yr[j] = relu ? fmaxf(v, 0.0f) : v;
            }
        } else {
            for (size_t j = 0; j < n; j++) {
                float v = (float)(ar[j] - 128 * sums[j]) * (rs * col_scale[j]) + (bias ? bias[j] : 0.0f);
                yr[j * step] = relu ? fmaxf(v, 0.0f) : v;
            }
        }
    }
}
