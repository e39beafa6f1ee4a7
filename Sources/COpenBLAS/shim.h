// OpenBLAS for Swift: cblas.h plus the runtime-control symbols the library
// exports but Debian's cblas.h does not always declare.
#ifndef COHORT_COPENBLAS_SHIM_H
#define COHORT_COPENBLAS_SHIM_H
#include <cblas.h>
char *openblas_get_corename(void);
char *openblas_get_config(void);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
// LAPACK (Fortran symbols exported by OpenBLAS; Debian ships no lapacke.h).
// All arguments are pointers; matrices are column-major. Each CHARACTER
// argument has a hidden trailing length (size_t, gfortran >= 8 ABI); the
// routines OpenBLAS reimplements in C ignore the extra arguments. Used only by
// Sources/CohortLinalg/LAPACK.swift.
#include <stddef.h>
void dgesv_(const blasint *n, const blasint *nrhs, double *a, const blasint *lda, blasint *ipiv,
            double *b, const blasint *ldb, blasint *info);
void dgetrf_(const blasint *m, const blasint *n, double *a, const blasint *lda, blasint *ipiv, blasint *info);
void dgetri_(const blasint *n, double *a, const blasint *lda, const blasint *ipiv, double *work,
             const blasint *lwork, blasint *info);
void dgecon_(const char *norm, const blasint *n, const double *a, const blasint *lda, const double *anorm,
             double *rcond, double *work, blasint *iwork, blasint *info, size_t norm_len);
void dpotrf_(const char *uplo, const blasint *n, double *a, const blasint *lda, blasint *info, size_t uplo_len);
void dgeqrf_(const blasint *m, const blasint *n, double *a, const blasint *lda, double *tau, double *work,
             const blasint *lwork, blasint *info);
void dorgqr_(const blasint *m, const blasint *n, const blasint *k, double *a, const blasint *lda,
             const double *tau, double *work, const blasint *lwork, blasint *info);
void dsyevd_(const char *jobz, const char *uplo, const blasint *n, double *a, const blasint *lda, double *w,
             double *work, const blasint *lwork, blasint *iwork, const blasint *liwork, blasint *info,
             size_t jobz_len, size_t uplo_len);
void dgeev_(const char *jobvl, const char *jobvr, const blasint *n, double *a, const blasint *lda,
            double *wr, double *wi, double *vl, const blasint *ldvl, double *vr, const blasint *ldvr,
            double *work, const blasint *lwork, blasint *info, size_t jobvl_len, size_t jobvr_len);
void dgesdd_(const char *jobz, const blasint *m, const blasint *n, double *a, const blasint *lda, double *s,
             double *u, const blasint *ldu, double *vt, const blasint *ldvt, double *work, const blasint *lwork,
             blasint *iwork, blasint *info, size_t jobz_len);
void dgelsd_(const blasint *m, const blasint *n, const blasint *nrhs, double *a, const blasint *lda,
             double *b, const blasint *ldb, double *s, const double *rcond, blasint *rank, double *work,
             const blasint *lwork, blasint *iwork, blasint *info);
#endif
