// OpenBLAS for Swift: cblas.h plus the runtime-control symbols the library
// exports but Debian's cblas.h does not always declare.
#ifndef COHORT_COPENBLAS_SHIM_H
#define COHORT_COPENBLAS_SHIM_H
#include <cblas.h>
char *openblas_get_corename(void);
char *openblas_get_config(void);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
#endif
