/* TFRecord checksums for TensorBoard event files: the masked CRC32C that frames
 * every record, computed with the checkpoint target's CRC32C (not a copy). */
#ifndef COHORT_TFRECORD_H
#define COHORT_TFRECORD_H
#include <stddef.h>
#include <stdint.h>

/* Plain CRC32C (Castagnoli) of `length` bytes at `data`. */
uint32_t cohort_tfrecord_crc32c(const void *data, size_t length);

/* TFRecord's masked CRC32C: ((crc >> 15) | (crc << 17)) + 0xa282ead8. */
uint32_t cohort_tfrecord_masked_crc32c(const void *data, size_t length);

#endif
