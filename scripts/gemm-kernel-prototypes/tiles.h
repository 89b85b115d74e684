// Shared by the prototypes (with timing.h's timer and comparator): the AVX-512 8 x 32 tile of
// C = A B over any B with leading dimension ldb (B read in place by unpacked.c, or as a packed
// 32-column panel with ldb = 32 by packed_panels.c); masks m0, m1 cover a last panel narrower
// than 32 columns.
#include <immintrin.h>
#include <stddef.h>
#include "timing.h"

__attribute__((target("avx512f,fma")))
static void nn8(const float *a, int lda, const float *b, int ldb, int K, float *c, int ldc, __mmask16 m0, __mmask16 m1) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m512 c40 = c00, c41 = c00, c50 = c00, c51 = c00, c60 = c00, c61 = c00, c70 = c00, c71 = c00;
    const float *a0 = a, *a1 = a + lda, *a2 = a + 2 * lda, *a3 = a + 3 * lda;
    const float *a4 = a + 4 * lda, *a5 = a + 5 * lda, *a6 = a + 6 * lda, *a7 = a + 7 * lda;
    for (int k = 0; k < K; k++) {
        const float *bk = b + (size_t)k * ldb;
        __m512 b0 = _mm512_maskz_loadu_ps(m0, bk), b1 = _mm512_maskz_loadu_ps(m1, bk + 16);
        __m512 x;
        x = _mm512_set1_ps(a0[k]); c00 = _mm512_fmadd_ps(x, b0, c00); c01 = _mm512_fmadd_ps(x, b1, c01);
        x = _mm512_set1_ps(a1[k]); c10 = _mm512_fmadd_ps(x, b0, c10); c11 = _mm512_fmadd_ps(x, b1, c11);
        x = _mm512_set1_ps(a2[k]); c20 = _mm512_fmadd_ps(x, b0, c20); c21 = _mm512_fmadd_ps(x, b1, c21);
        x = _mm512_set1_ps(a3[k]); c30 = _mm512_fmadd_ps(x, b0, c30); c31 = _mm512_fmadd_ps(x, b1, c31);
        x = _mm512_set1_ps(a4[k]); c40 = _mm512_fmadd_ps(x, b0, c40); c41 = _mm512_fmadd_ps(x, b1, c41);
        x = _mm512_set1_ps(a5[k]); c50 = _mm512_fmadd_ps(x, b0, c50); c51 = _mm512_fmadd_ps(x, b1, c51);
        x = _mm512_set1_ps(a6[k]); c60 = _mm512_fmadd_ps(x, b0, c60); c61 = _mm512_fmadd_ps(x, b1, c61);
        x = _mm512_set1_ps(a7[k]); c70 = _mm512_fmadd_ps(x, b0, c70); c71 = _mm512_fmadd_ps(x, b1, c71);
    }
#define ST(r, v0, v1) _mm512_mask_storeu_ps(c + r * ldc, m0, v0); _mm512_mask_storeu_ps(c + r * ldc + 16, m1, v1);
    ST(0, c00, c01) ST(1, c10, c11) ST(2, c20, c21) ST(3, c30, c31) ST(4, c40, c41) ST(5, c50, c51) ST(6, c60, c61) ST(7, c70, c71)
}
__attribute__((target("avx512f,fma")))
static void nn1(const float *a, const float *b, int ldb, int K, float *c, __mmask16 m0, __mmask16 m1) {
    __m512 s0 = _mm512_setzero_ps(), s1 = s0;
    for (int k = 0; k < K; k++) {
        __m512 x = _mm512_set1_ps(a[k]);
        s0 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m0, b + (size_t)k * ldb), s0);
        s1 = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(m1, b + (size_t)k * ldb + 16), s1);
    }
    _mm512_mask_storeu_ps(c, m0, s0); _mm512_mask_storeu_ps(c + 16, m1, s1);
}
