// protobuf-c runtime (the checkpoint format's generated code links against it).
#ifndef COHORT_CPROTOBUFC_SHIM_H
#define COHORT_CPROTOBUFC_SHIM_H
#include <protobuf-c/protobuf-c.h>
#endif
