/* Thin wrappers over Linux-only calls, for the checkpoint writer. */
#define _GNU_SOURCE
#include "cohort_fileio.h"
#include <fcntl.h>

int cohort_start_writeback(int fd, int64_t offset, int64_t length) {
#ifdef SYNC_FILE_RANGE_WRITE
    return sync_file_range(fd, (off64_t)offset, (off64_t)length, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd; (void)offset; (void)length;
    return 0;
#endif
}
