/* TFRecord's masked CRC32C over CCheckpointProto's CRC32C. The mask keeps a CRC
 * stored next to the data it covers from checksumming to a fixed value. */
#include "cohort_tfrecord.h"
#include "cohort_crc32c.h"

uint32_t cohort_tfrecord_crc32c(const void *data, size_t length) { return cohort_crc32c(0, data, length); }

uint32_t cohort_tfrecord_masked_crc32c(const void *data, size_t length) {
    uint32_t crc = cohort_crc32c(0, data, length);
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}
