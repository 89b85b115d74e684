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

// sin(x) and cos(x) from one call to glibc's sincos: one argument reduction instead of two, and
// the same bits as sin and cos (glibc computes all three with the same routines; checked over
// 2e8 arguments on glibc 2.36). Box-Muller's pair (Linalg's Xoshiro256), whose separate sin and
// cos were ~3.5 % of the article GAN's batch-split samples.
static inline __attribute__((always_inline)) void cvm_sincos(double x, double *s, double *c) {
    __builtin_sincos(x, s, c);
}

// Denormals flushed to zero on this thread (x86's MXCSR: FTZ, results below FLT_MIN become 0;
// DAZ, such inputs count as 0); returns the previous MXCSR for cvm_denormals_restore. Intel
// cores take a microcode assist, ~100+ cycles, for each SSE/AVX operation that makes or reads a
// denormal. Elsewhere (no SSE) a no-op returning 0.
static inline unsigned cvm_denormals_flush(void) {
#if defined(__SSE__)
    unsigned csr = __builtin_ia32_stmxcsr();
    __builtin_ia32_ldmxcsr(csr | 0x8040u);
    return csr;
#else
    return 0;
#endif
}

// Puts back the MXCSR cvm_denormals_flush returned.
static inline void cvm_denormals_restore(unsigned csr) {
#if defined(__SSE__)
    __builtin_ia32_ldmxcsr(csr);
#else
    (void)csr;
#endif
}

// Asks for the cache lines of `bytes` bytes at `p` ahead of their use (a hint, no fault).
static inline void cvm_prefetch(const void *p, long bytes) {
    for (long o = 0; o < bytes; o += 64) __builtin_prefetch((const char *)p + o);
}

// Sets *flag to 1 as an atomic store: the parts of a parallel pass (ParallelFor) may each find
// what they look for at once, and Swift has no atomic store through a plain pointer.
static inline void cvm_set_flag(int *flag) { __atomic_store_n(flag, 1, __ATOMIC_RELAXED); }

#include "panel_packing.h"
#include "transpose.h"
#include "packed_gemm.h"
#include "elementwise.h"
#endif
