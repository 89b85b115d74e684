// Copies a weight W (K x N, row-major) into the 64-column panels of packed_gemm.h (PG_WIDTH), as
// B = W and as B = Wᵀ: by any rectangle of W (ranks of a shared optimiser update each pack their
// part).
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

// dst[j * PG_WIDTH + i] = src[i * lds + j] for i, j < 16: a 16 x 16 block of W into 16 rows of
// a panel of Wᵀ (PG_WIDTH floats apart, 64-byte aligned). Unpack pairs, then 128-bit lane
// shuffles (the usual 4-stage transpose); streaming stores as in pg_pack_rect.
__attribute__((target("avx512f")))
static inline void pg_transpose16(const float *src, int lds, float *dst) {
    __m512 r[16], t[16];
    for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_ps(src + (size_t)i * lds);
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int h = 0; h < 16; h += 8)
        for (int i = 0; i < 4; i++) {
            t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
            t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xDD);
        }
    for (int i = 0; i < 8; i++) {
        r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
        r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
    }
    for (int j = 0; j < 16; j++) _mm512_stream_ps(dst + (size_t)j * PG_WIDTH, r[j]);
}

/// Packs rows r0 ..< r1 (whole rows) of W (K x N) into `pt`, the panels of B = Wᵀ (N x K):
/// W's row r is Wᵀ's column r, lane r % PG_WIDTH of panel r / PG_WIDTH. Groups of 16 aligned
/// rows go through pg_transpose16; the rest element by element.
__attribute__((target("avx512f")))
static inline void pg_pack_rows_transposed(const float *w, int K, int N, int r0, int r1, float *pt) {
    for (int lo = r0; lo < r1;) {
        int hi = ((lo >> 4) + 1) << 4;
        if (hi > r1) hi = r1;
        float *dst = pt + (size_t)(lo / PG_WIDTH) * N * PG_WIDTH + lo % PG_WIDTH;
        const float *src = w + (size_t)lo * N;
        int c = 0;
        if (hi - lo == 16 && (lo & 15) == 0)
            for (; c + 16 <= N; c += 16) pg_transpose16(src + c, N, dst + (size_t)c * PG_WIDTH);
        for (; c < N; c++)
            for (int r = 0; r < hi - lo; r++) dst[(size_t)c * PG_WIDTH + r] = src[(size_t)r * N + c];
        lo = hi;
    }
}

/// One element of W (row r, column c) into `pt` (for partial rows).
static inline void pg_pack_transposed_element(const float *w, int N, int r, int c, float *pt) {
    pt[(size_t)(r / PG_WIDTH) * N * PG_WIDTH + (size_t)c * PG_WIDTH + r % PG_WIDTH] = w[(size_t)r * N + c];
}

/// Orders the streaming stores of `pg_pack_rect` before what follows (a barrier, a release).
__attribute__((target("avx512f")))
static inline void pg_pack_done(void) { _mm_sfence(); }

#endif
