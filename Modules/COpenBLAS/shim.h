// OpenBLAS's CBLAS (sgemm and friends, thread control) and LAPACKE (eigen, Cholesky, solve).
#include <cblas.h>
#include <lapacke.h>
