/* Linux file-I/O calls Swift's Glibc module does not expose (they need _GNU_SOURCE). */
#ifndef COHORT_FILEIO_H
#define COHORT_FILEIO_H
#include <stdint.h>

/* Starts writeback of a file range without waiting (sync_file_range WRITE); 0 or -1. */
int cohort_start_writeback(int fd, int64_t offset, int64_t length);

#endif
