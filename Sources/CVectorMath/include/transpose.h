// Out-of-place transposes of float matrices in 16 x 16 blocks, with ordinary stores: the result
// is read right after (a product's packed operand or its output), so it should stay in cache.
#ifndef CVECTORMATH_TRANSPOSE_H
#define CVECTORMATH_TRANSPOSE_H

#include <immintrin.h>
#include <stddef.h>
#include "packed_gemm.h"

// One block's rows as named registers: an array of 16 vectors spills to the stack when this
// header is compiled inside the Swift build (measured: the transposing pack's loads and stores
// went through the stack).
#define TR_LOAD(i) __m512 r##i = (i) < nr ? _mm512_maskz_loadu_ps(cm, src + (size_t)(i) * lds) : _mm512_setzero_ps();
#define TR_UNPACK(i, j) __m512 t##i = _mm512_unpacklo_ps(r##i, r##j), t##j = _mm512_unpackhi_ps(r##i, r##j);
#define TR_SHUF4(a, b, c, d) \
    r##a = _mm512_shuffle_ps(t##a, t##c, 0x44); r##b = _mm512_shuffle_ps(t##a, t##c, 0xEE); \
    r##c = _mm512_shuffle_ps(t##b, t##d, 0x44); r##d = _mm512_shuffle_ps(t##b, t##d, 0xEE);
#define TR_LANES(i, j, SRC, DST) \
    DST##i = _mm512_shuffle_f32x4(SRC##i, SRC##j, 0x88); DST##j = _mm512_shuffle_f32x4(SRC##i, SRC##j, 0xDD);
#define TR_STORE(j) if ((j) < nc) _mm512_mask_storeu_ps(dst + (size_t)(j) * ldd, rm, r##j);

/// dst[j * ldd + i] = src[i * lds + j] for i < nr, j < nc (both at most 16): one block, by
/// unpacks and lane shuffles (the usual 4-stage transpose). Lanes of dst rows past nr are not
/// written.
__attribute__((target("avx512f")))
static inline void tr_block16(const float *src, size_t lds, int nr, int nc, float *dst, size_t ldd) {
    __mmask16 cm = (__mmask16)((1u << nc) - 1), rm = (__mmask16)((1u << nr) - 1);
    TR_LOAD(0) TR_LOAD(1) TR_LOAD(2) TR_LOAD(3) TR_LOAD(4) TR_LOAD(5) TR_LOAD(6) TR_LOAD(7)
    TR_LOAD(8) TR_LOAD(9) TR_LOAD(10) TR_LOAD(11) TR_LOAD(12) TR_LOAD(13) TR_LOAD(14) TR_LOAD(15)
    TR_UNPACK(0, 1) TR_UNPACK(2, 3) TR_UNPACK(4, 5) TR_UNPACK(6, 7)
    TR_UNPACK(8, 9) TR_UNPACK(10, 11) TR_UNPACK(12, 13) TR_UNPACK(14, 15)
    TR_SHUF4(0, 1, 2, 3) TR_SHUF4(4, 5, 6, 7) TR_SHUF4(8, 9, 10, 11) TR_SHUF4(12, 13, 14, 15)
    TR_LANES(0, 4, r, t) TR_LANES(1, 5, r, t) TR_LANES(2, 6, r, t) TR_LANES(3, 7, r, t)
    TR_LANES(8, 12, r, t) TR_LANES(9, 13, r, t) TR_LANES(10, 14, r, t) TR_LANES(11, 15, r, t)
    TR_LANES(0, 8, t, r) TR_LANES(1, 9, t, r) TR_LANES(2, 10, t, r) TR_LANES(3, 11, t, r)
    TR_LANES(4, 12, t, r) TR_LANES(5, 13, t, r) TR_LANES(6, 14, t, r) TR_LANES(7, 15, t, r)
    TR_STORE(0) TR_STORE(1) TR_STORE(2) TR_STORE(3) TR_STORE(4) TR_STORE(5) TR_STORE(6) TR_STORE(7)
    TR_STORE(8) TR_STORE(9) TR_STORE(10) TR_STORE(11) TR_STORE(12) TR_STORE(13) TR_STORE(14) TR_STORE(15)
}

/// dst (cols x rows, ldd) = srcᵀ, src being rows x cols (lds), both row-major.
__attribute__((target("avx512f")))
static inline void tr_transpose(const float *src, int lds, int rows, int cols, float *dst, int ldd) {
    for (int i = 0; i < rows; i += 16) {
        int nr = rows - i < 16 ? rows - i : 16;
        for (int j = 0; j < cols; j += 16) {
            int nc = cols - j < 16 ? cols - j : 16;
            tr_block16(src + (size_t)i * lds + j, (size_t)lds, nr, nc, dst + (size_t)j * ldd + i, (size_t)ldd);
        }
    }
}

/// Rows c0 ..< c1 of the 64-column panels of packed_gemm.h (PG_WIDTH) of srcᵀ (cols x rows), src
/// being rows x cols (lds): panel p holds src's rows 64p ..< 64p + 64 as its columns, `cols` rows
/// of PG_WIDTH floats; its rows c0 ..< c1 are src's columns c0 ..< c1 (disjoint ranges may be
/// packed concurrently). Lanes past `rows` in the last panel are not written (the kernel's
/// masked stores drop what they produce).
__attribute__((target("avx512f")))
static inline void tr_pack_transposed(const float *src, int lds, int rows, int cols, int c0, int c1, float *panels) {
    for (int p = 0; p * PG_WIDTH < rows; p++) {
        int n = rows - p * PG_WIDTH < PG_WIDTH ? rows - p * PG_WIDTH : PG_WIDTH;
        tr_transpose(src + (size_t)p * PG_WIDTH * lds + c0, lds, n, c1 - c0,
                     panels + ((size_t)p * cols + c0) * PG_WIDTH, PG_WIDTH);
    }
}

#undef TR_LOAD
#undef TR_UNPACK
#undef TR_SHUF4
#undef TR_LANES
#undef TR_STORE
#endif
