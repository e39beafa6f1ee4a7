// OpenMPI's C API (mpi.h). Its handles are macros Swift cannot import; the
// CMPIShims target returns them from functions.
#ifndef COHORT_CMPI_SHIM_H
#define COHORT_CMPI_SHIM_H
#include <mpi.h>
#endif
