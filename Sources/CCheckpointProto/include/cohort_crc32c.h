/* CRC32C (Castagnoli) for checkpoint chunks: SSE4.2 `crc32` instructions when
 * the CPU has them (~10+ GB/s), else a slicing-by-8 table (~2 GB/s). */
#ifndef COHORT_CRC32C_H
#define COHORT_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/* Extends `crc` (0 to start) over `length` bytes at `data`. */
uint32_t cohort_crc32c(uint32_t crc, const void *data, size_t length);

/* 1 when the hardware path is in use. */
int cohort_crc32c_hardware(void);

#endif
