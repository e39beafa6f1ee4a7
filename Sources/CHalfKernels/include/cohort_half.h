/* 16-bit floating-point words for Cohort's compressed gradient exchange
 * (`--grad-comm bf16|fp16`): conversions between float32 and bfloat16 / IEEE
 * binary16, both rounded to nearest even (NaN stays NaN, overflow becomes
 * infinity), with a scale applied on the way; element-wise sums of 16-bit words
 * (what an allreduce combines, rounded after each addition); and the average of
 * several ranks' 16-bit buffers computed in float32 (the shared-memory path).
 * binary16 uses F16C when the CPU has it (chosen once at first use;
 * COHORT_HALF_KERNEL=portable forces the portable C); both give the same bits.
 * CohortKernels' HalfPrecision and CMPIShims' reduction operators call them. */
#ifndef COHORT_HALF_H
#define COHORT_HALF_H
#include <stddef.h>
#include <stdint.h>

enum { COHORT_HALF_BF16 = 0, COHORT_HALF_FP16 = 1 };

/* One value each way, portable C. */
uint16_t cohort_f32_to_bf16(float x);
float cohort_bf16_to_f32(uint16_t h);
uint16_t cohort_f32_to_f16(float x);
float cohort_f16_to_f32(uint16_t h);

/* Whether the binary16 conversions run on F16C (1) or portable C (0). */
int cohort_half_uses_f16c(void);

/* dst[i] = round(src[i] · scale) in `format`. */
void cohort_half_encode(int format, const float *src, uint16_t *dst, size_t n, float scale);
/* The same with error feedback: v = src[i] + residual[i]; dst[i] = round(v · scale);
 * residual[i] = v − dst[i] / scale (what rounding lost, added to the next step's value). */
void cohort_half_encode_feedback(int format, const float *src, float *residual, uint16_t *dst, size_t n, float scale);
/* dst[i] = src[i] · scale, as float32. */
void cohort_half_decode(int format, const uint16_t *src, float *dst, size_t n, float scale);
/* inout[i] = round(in[i] + inout[i]): one step of an allreduce sum. */
void cohort_half_sum(int format, const uint16_t *in, uint16_t *inout, size_t n);
/* For i in [offset, offset + n): the float32 sum of buffers[0][i] … buffers[p-1][i]
 * (in that order) times `factor`, rounded once, written into every buffer. */
void cohort_half_average(int format, uint16_t *const *buffers, int p, size_t offset, size_t n, float factor);
/* How many of the n words are infinite or NaN. */
size_t cohort_half_count_nonfinite(int format, const uint16_t *src, size_t n);

/* The portable C binary16 paths, for tests that compare them with the selected one. */
void cohort_half_encode_portable(int format, const float *src, uint16_t *dst, size_t n, float scale);
void cohort_half_decode_portable(int format, const uint16_t *src, float *dst, size_t n, float scale);

#endif
