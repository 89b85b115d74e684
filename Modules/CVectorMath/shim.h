// The compiler's square root without errno: Swift's Float.squareRoot() reaches sqrtf through
// a slow path that may set errno, and a call that may write errno keeps a loop scalar. The
// elementwise builtin is IEEE sqrt (correctly rounded, as sqrtss/sqrtps compute it) with no
// side effect, so loops over it vectorise to sqrtps at baseline x86-64.
#ifndef CVECTORMATH_SHIM_H
#define CVECTORMATH_SHIM_H

static inline __attribute__((always_inline)) float cvm_sqrtf(float v) {
#if __has_builtin(__builtin_elementwise_sqrt)
    return __builtin_elementwise_sqrt(v);
#else
    return __builtin_sqrtf(v);  // correct, but may keep loops scalar on older compilers
#endif
}

// Sets *flag to 1 as an atomic store: the parts of a parallel pass (ParallelFor) may each find
// what they look for at once, and Swift has no atomic store through a plain pointer.
static inline void cvm_set_flag(int *flag) { __atomic_store_n(flag, 1, __ATOMIC_RELAXED); }

#include "panel_packing.h"
#include "packed_gemm.h"
#include "elementwise.h"
#endif
