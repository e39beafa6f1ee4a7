/* The LSTM's fused per-step gate kernels (CohortKernels' RecurrentGates) in AVX-512:
 * Swift compiles Cohort for baseline x86-64, where its 16-lane SIMD types run as four
 * SSE operations without FMA; these run a zmm register per 16 hidden units. Same
 * equations, gate order (i, f, g, o) and tanh/sigmoid approximations as the Swift
 * kernels; strides and pointers as CohortKernels' GateLayout. Chosen at run time
 * (cohort_recurrent_avx512_supported); the Swift kernels are the portable fallback. */
#ifndef COHORT_RECURRENT_H
#define COHORT_RECURRENT_H
#include <stddef.h>

/* Whether this CPU (and this build) can run the AVX-512 kernels. */
int cohort_recurrent_avx512_supported(void);

/* Row strides (in floats) of one step's buffers, for `rows` batch rows of a slice of
 * `units` hidden units: gate rows `gates` apart, [B, H] state rows `state` apart, hidden
 * states inside the [h | x] rows `hidden` apart, the output gradient `grad` apart. */
typedef struct {
    size_t rows, units, gates, state, hidden, grad;
} cohort_gate_layout;

/* Activations i, f, g, o written over `pre` (pre-activations, without bias and recurrent
 * product); `rec` (nullable: zero) adds h·W_hhᵀ; `c = f·cPrev + i·g`, `tanhC = tanh c`,
 * `h = o·tanhC`. */
void cohort_lstm_forward_avx512(const cohort_gate_layout *l, float *pre, const float *rec, const float *bias,
                                const float *c_prev, float *c, float *tanh_c, float *h);

/* Backward of one step: `dc` holds dL/dc_t on entry and dL/dc_{t-1} on return; writes the
 * pre-activation gradients `d_gates` from dL/dh_t = gradOut + dhRec. */
void cohort_lstm_backward_avx512(const cohort_gate_layout *l, const float *gates, const float *c_prev,
                                 const float *tanh_c, const float *grad_out, const float *dh_rec, float *dc,
                                 float *d_gates);
#endif
