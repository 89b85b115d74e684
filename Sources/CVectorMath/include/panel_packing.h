// Copies a weight W (K x N, row-major) into the 64-column panels of packed_gemm.h (PG_WIDTH), as
// B = W: by any rectangle of W (ranks of a shared optimiser update each pack their part). Panels
// of a transposed operand: transpose.h.
#ifndef CVECTORMATH_PANEL_PACKING_H
#define CVECTORMATH_PANEL_PACKING_H

#include <immintrin.h>
#include <stddef.h>
#include "packed_gemm.h"

/// Packs rows r0 ..< r1, columns c0 ..< c1 of W (K x N, row-major) into `p`, the panels of
/// B = W. Packing is a copy: a product over the panels sees exactly W's values. Aligned
/// 16-float pieces go out as streaming stores: the panels are next read long after a cache
/// would have kept them, and skipping the read-for-ownership halves the traffic. Call
/// `pg_pack_done()` before another thread reads the panels.
__attribute__((target("avx512f")))
static inline void pg_pack_rect(const float *w, int K, int N, int r0, int r1, int c0, int c1, float *p) {
    for (int r = r0; r < r1; r++) {
        const float *row = w + (size_t)r * N;
        for (int c = c0; c < c1;) {
            float *dst = p + (size_t)(c / PG_WIDTH) * K * PG_WIDTH + (size_t)r * PG_WIDTH + c % PG_WIDTH;
            if ((c & 15) == 0 && c + 16 <= c1) {
                _mm512_stream_ps(dst, _mm512_loadu_ps(row + c));
                c += 16;
            } else {
                *dst = row[c];
                c += 1;
            }
        }
    }
}

/// Packs rows r0 ..< r1 (all N columns) of B (K x N, row-major with ldb) into the panels `p`
/// with ordinary stores: B is a Dense layer's dZ for dW += Xᵀ dZ, read by the product right
/// after, while the panels are in cache. Lanes past N are not written (the kernel's masked
/// stores drop them).
__attribute__((target("avx512f")))
static inline void pg_pack_rows_cached(const float *b, int ldb, int K, int N, int r0, int r1, float *p) {
    for (int r = r0; r < r1; r++) {
        const float *row = b + (size_t)r * ldb;
        for (int c = 0; c < N; c += 16) {
            __mmask16 m = pg_mask(N, c);
            float *dst = p + (size_t)(c / PG_WIDTH) * K * PG_WIDTH + (size_t)r * PG_WIDTH + c % PG_WIDTH;
            _mm512_mask_storeu_ps(dst, m, _mm512_maskz_loadu_ps(m, row + c));
        }
    }
}

/// Orders the streaming stores of `pg_pack_rect` before what follows (a barrier, a release).
__attribute__((target("avx512f")))
static inline void pg_pack_done(void) { _mm_sfence(); }

#endif
