/* Row quantization and the GEMM epilogue as always-inline bodies, so gemm_portable.c
 * can compile them once per instruction set (internal to CInt8Kernels). */
#ifndef COHORT_INT8_EPILOGUE_H
#define COHORT_INT8_EPILOGUE_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline __attribute__((always_inline))
void quantize_rows_body(size_t rows, size_t cols, const float *restrict x, size_t ldx,
                        uint8_t *restrict q, size_t ldq, float *restrict scale, int dynamic) {
    for (size_t r = 0; r < rows; r++) {
        const float *restrict xr = x + r * ldx;
        float s;
        if (dynamic) {
            /* max |x| on the bit patterns (sign cleared, so they order as the magnitudes do): an
             * integer max the compiler vectorises, where a float max reduction needs fast-math. */
            uint32_t m = 0;
            for (size_t j = 0; j < cols; j++) {
                uint32_t b; memcpy(&b, xr + j, 4); b &= 0x7FFFFFFFu;
                m = b > m ? b : m;
            }
            float mf; memcpy(&mf, &m, 4);
            s = (mf > 0 && isfinite(mf)) ? mf / 127.0f : 1.0f;
            scale[r] = s;
        } else {
            s = scale[0];
        }
        float inv = 1.0f / s;
        uint8_t *restrict qr = q + r * ldq;
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

static inline __attribute__((always_inline))
void dequantize_body(size_t m, size_t n, const int32_t *restrict acc, const int32_t *restrict sums, const float *restrict row_scale,
                     size_t rows_per_scale, const float *restrict col_scale, const float *restrict bias, int relu, int nchw, float *restrict y) {
    for (size_t i = 0; i < m; i++) {
        float rs = row_scale[i / rows_per_scale];
        const int32_t *restrict ar = acc + i * n;
        if (!nchw) {   /* contiguous rows: loops the compiler vectorises */
            float *restrict yr = y + i * n;
            for (size_t j = 0; j < n; j++) yr[j] = (float)(ar[j] - 128 * sums[j]) * (rs * col_scale[j]);
            if (bias) for (size_t j = 0; j < n; j++) yr[j] += bias[j];
            if (relu) for (size_t j = 0; j < n; j++) yr[j] = fmaxf(yr[j], 0.0f);
        } else {
            float *restrict yr = y + (i / rows_per_scale) * n * rows_per_scale + i % rows_per_scale;
            for (size_t j = 0; j < n; j++) {
                float v = (float)(ar[j] - 128 * sums[j]) * (rs * col_scale[j]) + (bias ? bias[j] : 0.0f);
                yr[j * rows_per_scale] = relu ? fmaxf(v, 0.0f) : v;
            }
        }
    }
}
#endif
