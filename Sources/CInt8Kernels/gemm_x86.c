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

VNNI_TARGET
void cohort_i8_gemm_vnni(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda,
                         const int8_t *b, size_t ldb, int32_t *c, size_t ldc) {
    size_t k64 = k & ~(size_t)63;
    __mmask64 tail = (k - k64) ? (~(__mmask64)0 >> (64 - (k - k64))) : 0;
    for (size_t i = 0; i < m; i++) {
        const uint8_t *ar = a + i * lda;
        size_t j = 0;
        for (; j + 4 <= n; j += 4) {
            const int8_t *b0 = b + j * ldb, *b1 = b0 + ldb, *b2 = b1 + ldb, *b3 = b2 + ldb;
            __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0;
            for (size_t p = 0; p < k64; p += 64) {
                __m512i x = _mm512_loadu_si512(ar + p);
                s0 = _mm512_dpbusd_epi32(s0, x, _mm512_loadu_si512(b0 + p));
                s1 = _mm512_dpbusd_epi32(s1, x, _mm512_loadu_si512(b1 + p));
                s2 = _mm512_dpbusd_epi32(s2, x, _mm512_loadu_si512(b2 + p));
                s3 = _mm512_dpbusd_epi32(s3, x, _mm512_loadu_si512(b3 + p));
            }
            if (tail) {
                __m512i x = _mm512_maskz_loadu_epi8(tail, ar + k64);
                s0 = _mm512_dpbusd_epi32(s0, x, _mm512_maskz_loadu_epi8(tail, b0 + k64));
                s1 = _mm512_dpbusd_epi32(s1, x, _mm512_maskz_loadu_epi8(tail, b1 + k64));
                s2 = _mm512_dpbusd_epi32(s2, x, _mm512_maskz_loadu_epi8(tail, b2 + k64));
                s3 = _mm512_dpbusd_epi32(s3, x, _mm512_maskz_loadu_epi8(tail, b3 + k64));
            }
            int32_t *cr = c + i * ldc + j;
            cr[0] = _mm512_reduce_add_epi32(s0); cr[1] = _mm512_reduce_add_epi32(s1);
            cr[2] = _mm512_reduce_add_epi32(s2); cr[3] = _mm512_reduce_add_epi32(s3);
        }
        for (; j < n; j++) {
            const int8_t *br = b + j * ldb;
            __m512i s = _mm512_setzero_si512();
            for (size_t p = 0; p < k64; p += 64)
                s = _mm512_dpbusd_epi32(s, _mm512_loadu_si512(ar + p), _mm512_loadu_si512(br + p));
            if (tail) s = _mm512_dpbusd_epi32(s, _mm512_maskz_loadu_epi8(tail, ar + k64), _mm512_maskz_loadu_epi8(tail, br + k64));
            c[i * ldc + j] = _mm512_reduce_add_epi32(s);
        }
    }
}
#endif
