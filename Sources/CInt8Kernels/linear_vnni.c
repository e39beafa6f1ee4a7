/* The fused int8 linear layer for AVX-512 VNNI: weights packed once (at load) into
 * 16-channel panels of 4-byte K groups, the layout vpdpbusd consumes — one 64-byte load
 * is 16 output channels × 4 inputs, each activation dword is broadcast — so a tile of
 * rows × 64 channels accumulates in registers with no horizontal sums, starts from the
 * +128 compensation (−128·Σ_k B[n,k]) and leaves through the epilogue (scales, bias,
 * ReLU) straight into fp32 y: no int32 buffer, one pass. */
#include "cohort_int8.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define PANEL 16                       /* output channels per panel (one zmm of int32) */
static size_t k_groups(size_t k) { return (k + 3) / 4; }

size_t cohort_i8_packed_size(size_t n, size_t k) {
    return ((n + PANEL - 1) / PANEL) * PANEL * k_groups(k) * 4;
}

void cohort_i8_pack(size_t n, size_t k, const int8_t *b, size_t ldb, int8_t *packed) {
    size_t groups = k_groups(k), panels = (n + PANEL - 1) / PANEL;
    memset(packed, 0, cohort_i8_packed_size(n, k));
    for (size_t p = 0; p < panels; p++)
        for (size_t c = 0; c < PANEL && p * PANEL + c < n; c++) {
            const int8_t *row = b + (p * PANEL + c) * ldb;
            for (size_t kk = 0; kk < k; kk++)
                packed[(p * groups + kk / 4) * 64 + c * 4 + kk % 4] = row[kk];
        }
}

#if defined(__x86_64__)
#define VNNI_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma")))

/* Activation bytes 4g..4g+3 of a row as a dword; the last group of a K that is not a
 * multiple of 4 is read byte by byte (the padding bytes meet zero weights). */
VNNI_TARGET static inline __attribute__((always_inline))
__m512i group(const uint8_t *row, size_t g, size_t k) {
    int32_t v = 0;
    if (4 * g + 4 <= k) memcpy(&v, row + 4 * g, 4);
    else memcpy(&v, row + 4 * g, k - 4 * g);
    return _mm512_set1_epi32(v);
}

/* MR rows × NP panels: MR·NP accumulators, NP weight loads and MR broadcasts per K group. */
VNNI_TARGET static inline __attribute__((always_inline))
void tile(const int MR, const int NP, size_t k, const uint8_t *a, size_t lda, const int8_t *w, size_t panel_bytes,
          const __m512i *comp, const __m512 *cs, const __m512 *bias, const __mmask16 *mask, const float *rs,
          int relu, float *y, size_t ldy) {
    __m512i acc[6][4];   /* fixed extents (MR ≤ 6, NP ≤ 4), not VLAs, so they become registers once inlined */
    for (int r = 0; r < MR; r++) for (int q = 0; q < NP; q++) acc[r][q] = comp[q];
    size_t full = k / 4, groups = k_groups(k);
    for (size_t g = 0; g < full; g++) {
        __m512i wv[4];
        for (int q = 0; q < NP; q++) wv[q] = _mm512_loadu_si512(w + q * panel_bytes + g * 64);
        for (int r = 0; r < MR; r++) {
            int32_t v; memcpy(&v, a + r * lda + 4 * g, 4);
            __m512i x = _mm512_set1_epi32(v);
            for (int q = 0; q < NP; q++) acc[r][q] = _mm512_dpbusd_epi32(acc[r][q], x, wv[q]);
        }
    }
    if (full < groups) {
        __m512i wv[4];
        for (int q = 0; q < NP; q++) wv[q] = _mm512_loadu_si512(w + q * panel_bytes + full * 64);
        for (int r = 0; r < MR; r++) {
            __m512i x = group(a + r * lda, full, k);
            for (int q = 0; q < NP; q++) acc[r][q] = _mm512_dpbusd_epi32(acc[r][q], x, wv[q]);
        }
    }
    for (int r = 0; r < MR; r++) {
        __m512 s = _mm512_set1_ps(rs[r]);
        for (int q = 0; q < NP; q++) {
            __m512 v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[r][q]), _mm512_mul_ps(s, cs[q]), bias[q]);
            if (relu) v = _mm512_max_ps(v, _mm512_setzero_ps());
            _mm512_mask_storeu_ps(y + r * ldy + q * PANEL, mask[q], v);
        }
    }
}

/* Every row of A against NP panels (channels j..j+16·NP), six rows at a time. */
VNNI_TARGET static inline __attribute__((always_inline))
void column_block(const int NP, size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const int8_t *packed, size_t j,
                  const int32_t *sums, const float *row_scale, const float *col_scale, const float *bias, int relu, float *y, size_t ldy) {
    size_t panel_bytes = k_groups(k) * 64;
    const int8_t *w = packed + (j / PANEL) * panel_bytes;
    __m512i comp[4]; __m512 cs[4], bv[4]; __mmask16 mask[4];
    for (int q = 0; q < NP; q++) {
        size_t c0 = j + (size_t)q * PANEL, left = n > c0 ? n - c0 : 0;
        mask[q] = left >= PANEL ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        comp[q] = _mm512_mullo_epi32(_mm512_maskz_loadu_epi32(mask[q], sums + c0), _mm512_set1_epi32(-128));
        cs[q] = _mm512_maskz_loadu_ps(mask[q], col_scale + c0);
        bv[q] = bias ? _mm512_maskz_loadu_ps(mask[q], bias + c0) : _mm512_setzero_ps();
    }
    size_t i = 0;
    for (; i + 6 <= m; i += 6)
        tile(6, NP, k, a + i * lda, lda, w, panel_bytes, comp, cs, bv, mask, row_scale + i, relu, y + i * ldy + j, ldy);
    switch (m - i) {
    case 5: tile(5, NP, k, a + i * lda, lda, w, panel_bytes, comp, cs, bv, mask, row_scale + i, relu, y + i * ldy + j, ldy); break;
    case 4: tile(4, NP, k, a + i * lda, lda, w, panel_bytes, comp, cs, bv, mask, row_scale + i, relu, y + i * ldy + j, ldy); break;
    case 3: tile(3, NP, k, a + i * lda, lda, w, panel_bytes, comp, cs, bv, mask, row_scale + i, relu, y + i * ldy + j, ldy); break;
    case 2: tile(2, NP, k, a + i * lda, lda, w, panel_bytes, comp, cs, bv, mask, row_scale + i, relu, y + i * ldy + j, ldy); break;
    case 1: tile(1, NP, k, a + i * lda, lda, w, panel_bytes, comp, cs, bv, mask, row_scale + i, relu, y + i * ldy + j, ldy); break;
    default: break;
    }
}

VNNI_TARGET static void linear_vnni(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const int8_t *packed,
                                    const int32_t *sums, const float *row_scale, const float *col_scale, const float *bias,
                                    int relu, float *y, size_t ldy) {
    size_t j = 0;
    for (; j + 4 * PANEL <= n; j += 4 * PANEL)
        column_block(4, m, n, k, a, lda, packed, j, sums, row_scale, col_scale, bias, relu, y, ldy);
    switch ((n - j + PANEL - 1) / PANEL) {   /* 1–4 panels left, the last one masked */
    case 4: column_block(4, m, n, k, a, lda, packed, j, sums, row_scale, col_scale, bias, relu, y, ldy); break;
    case 3: column_block(3, m, n, k, a, lda, packed, j, sums, row_scale, col_scale, bias, relu, y, ldy); break;
    case 2: column_block(2, m, n, k, a, lda, packed, j, sums, row_scale, col_scale, bias, relu, y, ldy); break;
    case 1: column_block(1, m, n, k, a, lda, packed, j, sums, row_scale, col_scale, bias, relu, y, ldy); break;
    default: break;
    }
}
#endif

int cohort_i8_linear_packed(size_t m, size_t n, size_t k, const uint8_t *a, size_t lda, const int8_t *packed,
                            const int32_t *sums, const float *row_scale, const float *col_scale, const float *bias,
                            int relu, float *y, size_t ldy) {
#if defined(__x86_64__)
    if (!cohort_i8_kernel_supported(COHORT_I8_VNNI)) return -1;
    linear_vnni(m, n, k, a, lda, packed, sums, row_scale, col_scale, bias, relu, y, ldy);
    return 0;
#else
    (void)m; (void)n; (void)k; (void)a; (void)lda; (void)packed; (void)sums; (void)row_scale;
    (void)col_scale; (void)bias; (void)relu; (void)y; (void)ldy;
    return -1;
#endif
}
