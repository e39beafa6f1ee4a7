/* The x86 int8 GEMM kernels, compiled for their instruction sets with
 * __attribute__((target)) so the package builds for any x86-64 and picks at run time.
 * Both work on four output channels (rows of B) at a time, so each load of A is used
 * four times; the K tail is masked (VNNI) or scalar (AVX2). Both are exact:
 * AVX2 widens to int16 and uses vpmaddwd (|255·127·2| < 2^31), VNNI's vpdpbusd
 * adds u8·s8 products into int32 without intermediate saturation. */
#include "kernels.h"
#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static inline int32_t hsum256(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

__attribute__((target("avx2")))
void cohort_i8_gemm_avx2(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                         const int8_t *b, size_t ldb, int32_t *c, size_t ldc) {
    size_t k16 = k & ~(size_t)15;
    for (size_t i = 0; i < m; i++) {
        const uint8_t *ar = a + i * lda;
        size_t j = 0;
        for (; j + 4 <= n; j += 4) {
            const int8_t *b0 = b + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
            __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
            for (size_t p = 0; p < k16; p += 16) {
                __m256i x = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(ar + p)));
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(x, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b0 + p)))));
                s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(x, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b1 + p)))));
                s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(x, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b2 + p)))));
                s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(x, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b3 + p)))));
            }
            int32_t r0 = hsum256(s0), r1 = hsum256(s1), r2 = hsum256(s2), r3 = hsum256(s3);
            for (size_t p = k16; p < k; p++) {
                int32_t x = ar[p];
                r0 += x * b0[p]; r1 += x * b1[p]; r2 += x * b2[p]; r3 += x * b3[p];
            }
            int32_t *cr = c + i * ldc + j;
            cr[0] = r0; cr[1] = r1; cr[2] = r2; cr[3] = r3;
        }
        for (; j < n; j++) {
            const int8_t *br = b + j * ldb;
            __m256i s = _mm256_setzero_si256();
            for (size_t p = 0; p < k16; p += 16) {
                __m256i x = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(ar + p)));
                s = _mm256_add_epi32(s, _mm256_madd_epi16(x, _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(br + p)))));
            }
            int32_t r = hsum256(s);
            for (size_t p = k16; p < k; p++) r += (int32_t)ar[p] * br[p];
            c[i * ldc + j] = r;
        }
    }
}

#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vnni")))

/* The four sums of s0..s3 as one 128-bit vector [Σs0, Σs1, Σs2, Σs3]. */
VNNI_TARGET
static inline __m128i sum4(__m512i s0, __m512i s1, __m512i s2, __m512i s3) {
    __m256i h0 = _mm256_add_epi32(_mm512_castsi512_si256(s0), _mm512_extracti64x4_epi64(s0, 1));
    __m256i h1 = _mm256_add_epi32(_mm512_castsi512_si256(s1), _mm512_extracti64x4_epi64(s1, 1));
    __m256i h2 = _mm256_add_epi32(_mm512_castsi512_si256(s2), _mm512_extracti64x4_epi64(s2, 1));
    __m256i h3 = _mm256_add_epi32(_mm512_castsi512_si256(s3), _mm512_extracti64x4_epi64(s3, 1));
    __m256i a = _mm256_hadd_epi32(h0, h1), b = _mm256_hadd_epi32(h2, h3);
    __m256i c = _mm256_hadd_epi32(a, b);   /* per 128-bit half: [s0 s1 s2 s3] partial sums */
    return _mm_add_epi32(_mm256_castsi256_si128(c), _mm256_extracti128_si256(c, 1));
}

/* Rows i..i+3 of A against rows j..j+3 of B: a 4×4 block of C, 16 accumulators. */
VNNI_TARGET
static void block4x4(size_t k64, __mmask64 tail, const uint8_t *a, size_t lda, const int8_t *b, size_t ldb, int32_t *c, size_t ldc) {
    __m512i acc[4][4];
    for (int r = 0; r < 4; r++) for (int q = 0; q < 4; q++) acc[r][q] = _mm512_setzero_si512();
    const int8_t *b0 = b, *b1 = b + ldb, *b2 = b + 2 * ldb, *b3 = b + 3 * ldb;
    for (size_t p = 0; p < k64 + (tail ? 64 : 0); p += 64) {
        __mmask64 m = p < k64 ? ~(__mmask64)0 : tail;
        __m512i w0 = _mm512_maskz_loadu_epi8(m, b0 + p), w1 = _mm512_maskz_loadu_epi8(m, b1 + p);
        __m512i w2 = _mm512_maskz_loadu_epi8(m, b2 + p), w3 = _mm512_maskz_loadu_epi8(m, b3 + p);
        for (int r = 0; r < 4; r++) {
            __m512i x = _mm512_maskz_loadu_epi8(m, a + r * lda + p);
            acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], x, w0);
            acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], x, w1);
            acc[r][2] = _mm512_dpbusd_epi32(acc[r][2], x, w2);
            acc[r][3] = _mm512_dpbusd_epi32(acc[r][3], x, w3);
        }
    }
    for (int r = 0; r < 4; r++)
        _mm_storeu_si128((__m128i *)(c + r * ldc), sum4(acc[r][0], acc[r][1], acc[r][2], acc[r][3]));
}

/* Row i of A against rows j..j+3 of B. */
VNNI_TARGET
static void block1x4(size_t k64, __mmask64 tail, const uint8_t *a, const int8_t *b, size_t ldb, int32_t *c) {
    const int8_t *b0 = b, *b1 = b + ldb, *b2 = b + 2 * ldb, *b3 = b + 3 * ldb;
    __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
    for (size_t p = 0; p < k64; p += 64) {
        __m512i x = _mm512_loadu_si512(a + p);
        s0 = _mm512_dpbusd_epi32(s0, x, _mm512_loadu_si512(b0 + p));
        s1 = _mm512_dpbusd_epi32(s1, x, _mm512_loadu_si512(b1 + p));
        s2 = _mm512_dpbusd_epi32(s2, x, _mm512_loadu_si512(b2 + p));
        s3 = _mm512_dpbusd_epi32(s3, x, _mm512_loadu_si512(b3 + p));
    }
    if (tail) {
        __m512i x = _mm512_maskz_loadu_epi8(tail, a + k64);
        s0 = _mm512_dpbusd_epi32(s0, x, _mm512_maskz_loadu_epi8(tail, b0 + k64));
        s1 = _mm512_dpbusd_epi32(s1, x, _mm512_maskz_loadu_epi8(tail, b1 + k64));
        s2 = _mm512_dpbusd_epi32(s2, x, _mm512_maskz_loadu_epi8(tail, b2 + k64));
        s3 = _mm512_dpbusd_epi32(s3, x, _mm512_maskz_loadu_epi8(tail, b3 + k64));
    }
    _mm_storeu_si128((__m128i *)c, sum4(s0, s1, s2, s3));
}

/* Output channels outer, four at a time: their 4·K weight bytes stay in L1 while every
 * row of A passes, four rows at a time (4×4 blocks: 8 loads per 16 vpdpbusd). */
VNNI_TARGET
void cohort_i8_gemm_vnni(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                         const int8_t *b, size_t ldb, int32_t *c, size_t ldc) {
    size_t k64 = k & ~(size_t)63;
    __mmask64 tail = (k - k64) ? (~(__mmask64)0 >> (64 - (k - k64))) : 0;
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        size_t i = 0;
        for (; i + 4 <= m; i += 4) block4x4(k64, tail, a + i * lda, lda, b + j * ldb, ldb, c + i * ldc + j, ldc);
        for (; i < m; i++) block1x4(k64, tail, a + i * lda, b + j * ldb, ldb, c + i * ldc + j);
    }
    for (; j < n; j++) {
        const int8_t *br = b + j * ldb;
        for (size_t i = 0; i < m; i++) {
            const uint8_t *ar = a + i * lda;
            __m512i s = _mm512_setzero_si512();
            for (size_t p = 0; p < k64; p += 64)
                s = _mm512_dpbusd_epi32(s, _mm512_loadu_si512(ar + p), _mm512_loadu_si512(br + p));
            if (tail) s = _mm512_dpbusd_epi32(s, _mm512_maskz_loadu_epi8(tail, ar + k64), _mm512_maskz_loadu_epi8(tail, br + k64));
            c[i * ldc + j] = _mm512_reduce_add_epi32(s);
        }
    }
}
#endif
