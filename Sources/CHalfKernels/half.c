/* Conversions, sums and averages of 16-bit float words: see include/cohort_half.h. */
#include "cohort_half.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static inline uint32_t bits_of(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float float_of(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

uint16_t cohort_f32_to_bf16(float x) {
    uint32_t u = bits_of(x);
    uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;   /* nearest, ties to even */
    uint32_t quiet = (u >> 16) | 0x0040u;                        /* NaN stays NaN */
    return (uint16_t)((u & 0x7fffffffu) > 0x7f800000u ? quiet : rounded);
}

float cohort_bf16_to_f32(uint16_t h) { return float_of((uint32_t)h << 16); }

uint16_t cohort_f32_to_f16(float x) {
    uint32_t u = bits_of(x);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return sign | 0x7e00u | (uint16_t)((a >> 13) & 0x3ffu);     /* NaN, quiet */
    if (a >= 0x477ff000u) return sign | 0x7c00u;                                      /* ≥ 65520: infinity */
    if (a < 0x38800000u) {
        /* Below 2^-14: a binary16 subnormal (units of 2^-24) or zero. Adding 0.5 puts the
         * value's 2^-24 multiples in the low mantissa bits; the FPU rounds to nearest even. */
        float s = float_of(a) + 0.5f;
        return sign | (uint16_t)(bits_of(s) - 0x3f000000u);
    }
    /* Normal: rebias the exponent (−112), round the 13 dropped bits to nearest even. */
    a += 0xc8000fffu + ((a >> 13) & 1u);
    return sign | (uint16_t)(a >> 13);
}

float cohort_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t em = h & 0x7fffu;
    if (em >= 0x7c00u) return float_of(sign | 0x7f800000u | ((em & 0x3ffu) << 13));
    if (em >= 0x0400u) return float_of(sign | ((em << 13) + 0x38000000u));
    float s = (float)em * 5.9604644775390625e-8f;                                     /* em · 2^-24 */
    return float_of(sign | bits_of(s));
}

/* ---- binary16 on F16C ---- */

#if defined(__x86_64__)
__attribute__((target("avx,f16c")))
static void f16_encode_f16c(const float *src, uint16_t *dst, size_t n, float scale) {
    __m256 s = _mm256_set1_ps(scale);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_mul_ps(_mm256_loadu_ps(src + i), s), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    for (; i < n; i++) dst[i] = cohort_f32_to_f16(src[i] * scale);
}

__attribute__((target("avx,f16c")))
static void f16_decode_f16c(const uint16_t *src, float *dst, size_t n, float scale) {
    __m256 s = _mm256_set1_ps(scale);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 f = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i)));
        _mm256_storeu_ps(dst + i, _mm256_mul_ps(f, s));
    }
    for (; i < n; i++) dst[i] = cohort_f16_to_f32(src[i]) * scale;
}
#endif

static int f16c_choice = -1;

int cohort_half_uses_f16c(void) {
    int c = __atomic_load_n(&f16c_choice, __ATOMIC_ACQUIRE);
    if (c >= 0) return c;
    c = 0;
#if defined(__x86_64__)
    const char *forced = getenv("COHORT_HALF_KERNEL");
    if (!(forced && strcmp(forced, "portable") == 0)) {
        __builtin_cpu_init();
        c = (__builtin_cpu_supports("avx") && __builtin_cpu_supports("f16c")) ? 1 : 0;
    }
#endif
    __atomic_store_n(&f16c_choice, c, __ATOMIC_RELEASE);
    return c;
}

/* ---- bulk paths ---- */

static inline uint16_t encode1(int format, float v) {
    return format == COHORT_HALF_BF16 ? cohort_f32_to_bf16(v) : cohort_f32_to_f16(v);
}
static inline float decode1(int format, uint16_t h) {
    return format == COHORT_HALF_BF16 ? cohort_bf16_to_f32(h) : cohort_f16_to_f32(h);
}

void cohort_half_encode_portable(int format, const float *src, uint16_t *dst, size_t n, float scale) {
    if (format == COHORT_HALF_BF16) {
        for (size_t i = 0; i < n; i++) dst[i] = cohort_f32_to_bf16(src[i] * scale);
    } else {
        for (size_t i = 0; i < n; i++) dst[i] = cohort_f32_to_f16(src[i] * scale);
    }
}

void cohort_half_decode_portable(int format, const uint16_t *src, float *dst, size_t n, float scale) {
    if (format == COHORT_HALF_BF16) {
        for (size_t i = 0; i < n; i++) dst[i] = cohort_bf16_to_f32(src[i]) * scale;
    } else {
        for (size_t i = 0; i < n; i++) dst[i] = cohort_f16_to_f32(src[i]) * scale;
    }
}

void cohort_half_encode(int format, const float *src, uint16_t *dst, size_t n, float scale) {
#if defined(__x86_64__)
    if (format == COHORT_HALF_FP16 && cohort_half_uses_f16c()) { f16_encode_f16c(src, dst, n, scale); return; }
#endif
    cohort_half_encode_portable(format, src, dst, n, scale);
}

void cohort_half_decode(int format, const uint16_t *src, float *dst, size_t n, float scale) {
#if defined(__x86_64__)
    if (format == COHORT_HALF_FP16 && cohort_half_uses_f16c()) { f16_decode_f16c(src, dst, n, scale); return; }
#endif
    cohort_half_decode_portable(format, src, dst, n, scale);
}

void cohort_half_encode_feedback(int format, const float *src, float *residual, uint16_t *dst, size_t n, float scale) {
    float inverse = 1.0f / scale;
    for (size_t i = 0; i < n; i++) {
        float v = src[i] + residual[i];
        uint16_t h = encode1(format, v * scale);
        dst[i] = h;
        float back = decode1(format, h) * inverse;
        /* An infinite word leaves no finite residual: keep none (the bucket is resent in float32). */
        residual[i] = isfinite(back) ? v - back : 0.0f;
    }
}

/* Sums and averages work on chunks decoded into float32, so the bulk (vectorised,
 * F16C) conversions do the work. */
enum { CHUNK = 512 };

void cohort_half_sum(int format, const uint16_t *in, uint16_t *inout, size_t n) {
    float a[CHUNK], b[CHUNK];
    for (size_t i = 0; i < n; i += CHUNK) {
        size_t m = n - i < CHUNK ? n - i : CHUNK;
        cohort_half_decode(format, in + i, a, m, 1.0f);
        cohort_half_decode(format, inout + i, b, m, 1.0f);
        for (size_t j = 0; j < m; j++) a[j] += b[j];
        cohort_half_encode(format, a, inout + i, m, 1.0f);
    }
}

void cohort_half_average(int format, uint16_t *const *buffers, int p, size_t offset, size_t n, float factor) {
    float sum[CHUNK], next[CHUNK];
    uint16_t out[CHUNK];
    for (size_t i = offset; i < offset + n; i += CHUNK) {
        size_t m = offset + n - i < CHUNK ? offset + n - i : CHUNK;
        cohort_half_decode(format, buffers[0] + i, sum, m, 1.0f);
        for (int q = 1; q < p; q++) {
            cohort_half_decode(format, buffers[q] + i, next, m, 1.0f);
            for (size_t j = 0; j < m; j++) sum[j] += next[j];
        }
        cohort_half_encode(format, sum, out, m, factor);
        for (int q = 0; q < p; q++) memcpy(buffers[q] + i, out, m * sizeof(uint16_t));
    }
}

size_t cohort_half_count_nonfinite(int format, const uint16_t *src, size_t n) {
    uint16_t exponent = format == COHORT_HALF_BF16 ? 0x7f80u : 0x7c00u;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += (src[i] & exponent) == exponent;
    return count;
}
