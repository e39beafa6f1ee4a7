/* Atomic flags in memory shared between processes (single writer, many
 * readers, release/acquire ordering) and a spin-wait hint: what DDP's
 * shared-memory averager (CohortDistributed) needs beyond Swift. */
#ifndef COHORT_ATOMICS_H
#define COHORT_ATOMICS_H
#include <stdint.h>

uint64_t cohort_atomic_load_acquire(const uint64_t *p);
void cohort_atomic_store_release(uint64_t *p, uint64_t value);
/* A spin-wait hint (x86 PAUSE, arm64 YIELD). */
void cohort_cpu_relax(void);

#endif
