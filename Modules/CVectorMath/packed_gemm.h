// C = A B for a weight B kept packed in 32-column panels (Linalg's PackedPanels), AVX-512.
//
// Why our own kernel: OpenBLAS packs B on every call, so a Dense weight is copied at every
// product by it (forward and dX, in every replica): about an eighth of the large MLP GAN's step
// on a Zen 4. A weight changes once per optimiser step, so it is packed then, twice (as B = W
// for the forward and as B = Wᵀ for dX = dZ Wᵀ), and every product reads the panels as they are.
// Measured against cblas_sgemm at the MLPs' shapes in scripts/gemm-kernel-prototypes.
//
// Layout of a packed K x N matrix B: panel p (0 <= p < ceil(N / 32)) holds columns
// 32p ..< 32p + 32 of every row k, k-major: element (k, j) at p * K * 32 + k * 32 + (j - 32p).
// Columns past N are zeroed when the buffer is made and never written; whatever they hold only
// reaches lanes the kernel's masked stores drop.
#ifndef CVECTORMATH_PACKED_GEMM_H
#define CVECTORMATH_PACKED_GEMM_H

#include <immintrin.h>
#include <stddef.h>

/// 1 when this CPU runs the AVX-512 kernel (AVX-512F and FMA), else 0.
static inline int pg_available(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
}

// An 8 x 32 tile of C: rows a0..a7 of A times one panel, masks m0/m1 for a narrow last panel.
__attribute__((target("avx512f,fma")))
static inline void pg_tile8(const float *a, int lda, const float *b, int K, float *c, int ldc,
                            __mmask16 m0, __mmask16 m1) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m512 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    __m512 c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * (size_t)lda, *a3 = a + 3 * (size_t)lda;
    const float *a4 = a + 4 * (size_t)lda, *a5 = a + 5 * (size_t)lda;
    const float *a6 = a + 6 * (size_t)lda, *a7 = a + 7 * (size_t)lda;
    for (int k = 0; k < K; k++) {
        const float *bk = b + (size_t)k * 32;
        __m512 b0 = _mm512_load_ps(bk), b1 = _mm512_load_ps(bk + 16), x;
        x = _mm512_set1_ps(a0[k]); c00 = _mm512_fmadd_ps(x, b0, c00); c01 = _mm512_fmadd_ps(x, b1, c01);
        x = _mm512_set1_ps(a1[k]); c10 = _mm512_fmadd_ps(x, b0, c10); c11 = _mm512_fmadd_ps(x, b1, c11);
        x = _mm512_set1_ps(a2[k]); c20 = _mm512_fmadd_ps(x, b0, c20); c21 = _mm512_fmadd_ps(x, b1, c21);
        x = _mm512_set1_ps(a3[k]); c30 = _mm512_fmadd_ps(x, b0, c30); c31 = _mm512_fmadd_ps(x, b1, c31);
        x = _mm512_set1_ps(a4[k]); c40 = _mm512_fmadd_ps(x, b0, c40); c41 = _mm512_fmadd_ps(x, b1, c41);
        x = _mm512_set1_ps(a5[k]); c50 = _mm512_fmadd_ps(x, b0, c50); c51 = _mm512_fmadd_ps(x, b1, c51);
        x = _mm512_set1_ps(a6[k]); c60 = _mm512_fmadd_ps(x, b0, c60); c61 = _mm512_fmadd_ps(x, b1, c61);
        x = _mm512_set1_ps(a7[k]); c70 = _mm512_fmadd_ps(x, b0, c70); c71 = _mm512_fmadd_ps(x, b1, c71);
    }
#define PG_STORE(r, v0, v1) _mm512_mask_storeu_ps(c + (r) * (size_t)ldc, m0, v0); \
                            _mm512_mask_storeu_ps(c + (r) * (size_t)ldc + 16, m1, v1);
    PG_STORE(0, c00, c01) PG_STORE(1, c10, c11) PG_STORE(2, c20, c21) PG_STORE(3, c30, c31)
    PG_STORE(4, c40, c41) PG_STORE(5, c50, c51) PG_STORE(6, c60, c61) PG_STORE(7, c70, c71)
#undef PG_STORE
}

// One row of C over one panel: the same sums in the same order as a row of pg_tile8.
__attribute__((target("avx512f,fma")))
static inline void pg_tile1(const float *a, const float *b, int K, float *c, __mmask16 m0, __mmask16 m1) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    for (int k = 0; k < K; k++) {
        __m512 x = _mm512_set1_ps(a[k]);
        s0 = _mm512_fmadd_ps(x, _mm512_load_ps(b + (size_t)k * 32), s0);
        s1 = _mm512_fmadd_ps(x, _mm512_load_ps(b + (size_t)k * 32 + 16), s1);
    }
    _mm512_mask_storeu_ps(c, m0, s0);
    _mm512_mask_storeu_ps(c + 16, m1, s1);
}

/// C (M x N, ldc) = A (M x K, lda) B, B packed as above in 64-byte aligned `panels`.
/// Rows row0 ..< row1 of C only (a thread's share); each element's sum runs over k in order,
/// so any split of the rows gives the same bits.
__attribute__((target("avx512f,fma")))
static inline void pg_gemm_rows(int row0, int row1, int N, int K, const float *a, int lda,
                                const float *panels, float *c, int ldc) {
    for (int p = 0; p < (N + 31) / 32; p++) {
        int w = N - p * 32 < 32 ? N - p * 32 : 32;
        __mmask16 m0 = w >= 16 ? 0xFFFF : (__mmask16)((1u << w) - 1);
        __mmask16 m1 = w >= 32 ? 0xFFFF : w <= 16 ? 0 : (__mmask16)((1u << (w - 16)) - 1);
        const float *b = panels + (size_t)p * K * 32;
        int i = row0;
        for (; i + 8 <= row1; i += 8)
            pg_tile8(a + (size_t)i * lda, lda, b, K, c + (size_t)i * ldc + p * 32, ldc, m0, m1);
        for (; i < row1; i++)
            pg_tile1(a + (size_t)i * lda, b, K, c + (size_t)i * ldc + p * 32, m0, m1);
    }
}

#endif
