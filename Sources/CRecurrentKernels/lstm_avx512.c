/* AVX-512 LSTM gate kernels (see include/cohort_recurrent.h): one zmm per 16 hidden
 * units, masked loads and stores for a slice whose width is not a multiple of 16. */
#include "cohort_recurrent.h"
#if defined(__x86_64__)
#include <immintrin.h>

int cohort_recurrent_avx512_supported(void) {
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

#define AVX512 __attribute__((target("avx512f,fma")))
#define INLINE static inline __attribute__((always_inline))

/* tanh as the Swift kernels' gateTanh: Eigen's [13/6] rational function on x clamped
 * to ±7.9053 (|error| < 4e-7); NaN propagates through min/max as there. */
AVX512 INLINE __m512 tanh16(__m512 x0) {
    const __m512 bound = _mm512_set1_ps(7.90531110763549805f);
    __m512 x = _mm512_min_ps(_mm512_max_ps(x0, _mm512_sub_ps(_mm512_setzero_ps(), bound)), bound);
    /* max/min return the second operand for NaN: keep NaN lanes. */
    __mmask16 nan = _mm512_cmp_ps_mask(x0, x0, _CMP_UNORD_Q);
    x = _mm512_mask_mov_ps(x, nan, x0);
    __m512 x2 = _mm512_mul_ps(x, x);
    __m512 p = _mm512_set1_ps(-2.76076847742355e-16f);
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(2.00018790482477e-13f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(-8.60467152213735e-11f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(5.12229709037114e-08f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(1.48572235717979e-05f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(6.37261928875436e-04f));
    p = _mm512_fmadd_ps(p, x2, _mm512_set1_ps(4.89352455891786e-03f));
    __m512 q = _mm512_set1_ps(1.19825839466702e-06f);
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(1.18534705686654e-04f));
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(2.26843463243900e-03f));
    q = _mm512_fmadd_ps(q, x2, _mm512_set1_ps(4.89352518554385e-03f));
    return _mm512_div_ps(_mm512_mul_ps(p, x), q);
}

/* σ(x) = (1 + tanh(x/2)) / 2. */
AVX512 INLINE __m512 sigmoid16(__m512 x) {
    const __m512 half = _mm512_set1_ps(0.5f);
    return _mm512_fmadd_ps(half, tanh16(_mm512_mul_ps(half, x)), half);
}

AVX512 INLINE __m512 load(const float *p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
AVX512 INLINE void store(float *p, __m512 v, __mmask16 m) { _mm512_mask_storeu_ps(p, m, v); }

AVX512 void cohort_lstm_forward_avx512(const cohort_gate_layout *l, float *pre, const float *rec, const float *bias,
                                       const float *c_prev, float *c, float *tanh_c, float *h) {
    const size_t U = l->units;
    for (size_t b = 0; b < l->rows; b++) {
        float *g0 = pre + b * l->gates;
        const float *r0 = rec ? rec + b * l->gates : NULL;
        const float *cp = c_prev + b * l->state;
        float *cr = c + b * l->state, *tr = tanh_c + b * l->state, *hr = h + b * l->hidden;
        for (size_t j = 0; j < U; j += 16) {
            __mmask16 m = U - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (U - j)) - 1);
#define PRE(k) (r0 ? _mm512_add_ps(_mm512_add_ps(load(g0 + (k) * U + j, m), load(bias + (k) * U + j, m)), load(r0 + (k) * U + j, m)) \
                   : _mm512_add_ps(load(g0 + (k) * U + j, m), load(bias + (k) * U + j, m)))
            __m512 i = sigmoid16(PRE(0));
            store(g0 + j, i, m);
            __m512 g = tanh16(PRE(2));
            store(g0 + 2 * U + j, g, m);
            __m512 f = sigmoid16(PRE(1));
            store(g0 + U + j, f, m);
            __m512 cn = _mm512_fmadd_ps(f, load(cp + j, m), _mm512_mul_ps(i, g));
            store(cr + j, cn, m);
            __m512 tc = tanh16(cn);
            store(tr + j, tc, m);
            __m512 o = sigmoid16(PRE(3));
            store(g0 + 3 * U + j, o, m);
            store(hr + j, _mm512_mul_ps(o, tc), m);
#undef PRE
        }
    }
}

AVX512 void cohort_lstm_backward_avx512(const cohort_gate_layout *l, const float *gates, const float *c_prev,
                                        const float *tanh_c, const float *grad_out, const float *dh_rec, float *dc,
                                        float *d_gates) {
    const size_t U = l->units;
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t b = 0; b < l->rows; b++) {
        const float *g0 = gates + b * l->gates, *cp = c_prev + b * l->state, *tr = tanh_c + b * l->state;
        const float *dr = dh_rec + b * l->state, *go = grad_out + b * l->grad;
        float *d0 = d_gates + b * l->gates, *dcr = dc + b * l->state;
        for (size_t j = 0; j < U; j += 16) {
            __mmask16 m = U - j >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (U - j)) - 1);
            __m512 dh = _mm512_add_ps(load(go + j, m), load(dr + j, m));
            __m512 o = load(g0 + 3 * U + j, m), tc = load(tr + j, m);
            store(d0 + 3 * U + j, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dh, tc), o), _mm512_sub_ps(one, o)), m);
            __m512 dcv = _mm512_fmadd_ps(_mm512_mul_ps(dh, o), _mm512_fnmadd_ps(tc, tc, one), load(dcr + j, m));
            __m512 i = load(g0 + j, m), g = load(g0 + 2 * U + j, m);
            store(d0 + j, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dcv, g), i), _mm512_sub_ps(one, i)), m);
            store(d0 + 2 * U + j, _mm512_mul_ps(_mm512_mul_ps(dcv, i), _mm512_fnmadd_ps(g, g, one)), m);
            __m512 f = load(g0 + U + j, m);
            store(d0 + U + j, _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dcv, load(cp + j, m)), f), _mm512_sub_ps(one, f)), m);
            store(dcr + j, _mm512_mul_ps(dcv, f), m);
        }
    }
}

#else
int cohort_recurrent_avx512_supported(void) { return 0; }
void cohort_lstm_forward_avx512(const cohort_gate_layout *l, float *pre, const float *rec, const float *bias,
                                const float *c_prev, float *c, float *tanh_c, float *h) {
    (void)l; (void)pre; (void)rec; (void)bias; (void)c_prev; (void)c; (void)tanh_c; (void)h;
}
void cohort_lstm_backward_avx512(const cohort_gate_layout *l, const float *gates, const float *c_prev,
                                 const float *tanh_c, const float *grad_out, const float *dh_rec, float *dc,
                                 float *d_gates) {
    (void)l; (void)gates; (void)c_prev; (void)tanh_c; (void)grad_out; (void)dh_rec; (void)dc; (void)d_gates;
}
#endif
