// Prototype (not part of the package): gemm kernels that pack nothing, against cblas_sgemm
// (OpenBLAS, one thread): C = A W as 8 x 32 AVX-512 tiles reading the weight in place, and
// C = A Wᵀ as 4 x 4 tiles of dot products along k. Per shape the median of 41 warm calls.
// Measured on a Zen 4 (2026-12-04): 0.97-1.15x cblas_sgemm at the large GAN's shapes, 1.5x for
// 64 x 1024 x 512 with Wᵀ (1,024-float weight rows); in the training steps they gained nothing
// (in-situ.patch, see README). Run: scripts/gemm-kernel-prototypes/run.
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "tiles.h"
extern void openblas_set_num_threads(int);

static void gemm_nn(int M, int N, int K, const float *a, int lda, const float *b, int ldb, float *c, int ldc) {
    for (int j0 = 0; j0 < N; j0 += 32) {
        int w = N - j0 < 32 ? N - j0 : 32;
        __mmask16 m0 = w >= 16 ? 0xFFFF : (__mmask16)((1u << w) - 1);
        __mmask16 m1 = w >= 32 ? 0xFFFF : w <= 16 ? 0 : (__mmask16)((1u << (w - 16)) - 1);
        int i = 0;
        for (; i + 8 <= M; i += 8) nn8(a + (size_t)i * lda, lda, b + j0, ldb, K, c + (size_t)i * ldc + j0, ldc, m0, m1);
        for (; i < M; i++) nn1(a + (size_t)i * lda, b + j0, ldb, K, c + (size_t)i * ldc + j0, m0, m1);
    }
}

// C (M x N) = A (M x K) * W^T, W is N x K: dot products along k, 4 x 4 tiles.
__attribute__((target("avx512f,fma")))
static inline float hsum(__m512 v) { return _mm512_reduce_add_ps(v); }
__attribute__((target("avx512f,fma")))
static void nt44(const float *a, int lda, const float *w, int ldw, int K, float *c, int ldc) {
    __m512 s[4][4];
    for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) s[i][j] = _mm512_setzero_ps();
    int k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 x0 = _mm512_loadu_ps(a + k), x1 = _mm512_loadu_ps(a + lda + k), x2 = _mm512_loadu_ps(a + 2 * lda + k), x3 = _mm512_loadu_ps(a + 3 * lda + k);
        for (int j = 0; j < 4; j++) {
            __m512 y = _mm512_loadu_ps(w + (size_t)j * ldw + k);
            s[0][j] = _mm512_fmadd_ps(x0, y, s[0][j]); s[1][j] = _mm512_fmadd_ps(x1, y, s[1][j]);
            s[2][j] = _mm512_fmadd_ps(x2, y, s[2][j]); s[3][j] = _mm512_fmadd_ps(x3, y, s[3][j]);
        }
    }
    if (k < K) {
        __mmask16 m = (__mmask16)((1u << (K - k)) - 1);
        __m512 x0 = _mm512_maskz_loadu_ps(m, a + k), x1 = _mm512_maskz_loadu_ps(m, a + lda + k), x2 = _mm512_maskz_loadu_ps(m, a + 2 * lda + k), x3 = _mm512_maskz_loadu_ps(m, a + 3 * lda + k);
        for (int j = 0; j < 4; j++) {
            __m512 y = _mm512_maskz_loadu_ps(m, w + (size_t)j * ldw + k);
            s[0][j] = _mm512_fmadd_ps(x0, y, s[0][j]); s[1][j] = _mm512_fmadd_ps(x1, y, s[1][j]);
            s[2][j] = _mm512_fmadd_ps(x2, y, s[2][j]); s[3][j] = _mm512_fmadd_ps(x3, y, s[3][j]);
        }
    }
    for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) c[i * ldc + j] = hsum(s[i][j]);
}
__attribute__((target("avx512f,fma")))
static float dot1(const float *a, const float *w, int K) {
    __m512 s = _mm512_setzero_ps(); int k = 0;
    for (; k + 16 <= K; k += 16) s = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(w + k), s);
    if (k < K) { __mmask16 m = (__mmask16)((1u << (K - k)) - 1); s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, w + k), s); }
    return hsum(s);
}
static void gemm_nt(int M, int N, int K, const float *a, int lda, const float *w, int ldw, float *c, int ldc) {
    int j = 0;
    for (; j + 4 <= N; j += 4) {
        int i = 0;
        for (; i + 4 <= M; i += 4) nt44(a + (size_t)i * lda, lda, w + (size_t)j * ldw, ldw, K, c + (size_t)i * ldc + j, ldc);
        for (; i < M; i++) for (int jj = j; jj < j + 4; jj++) c[(size_t)i * ldc + jj] = dot1(a + (size_t)i * lda, w + (size_t)jj * ldw, K);
    }
    for (; j < N; j++) for (int i = 0; i < M; i++) c[(size_t)i * ldc + j] = dot1(a + (size_t)i * lda, w + (size_t)j * ldw, K);
}

int main(void) {
    openblas_set_num_threads(1);
    int shapes[][4] = {{64,100,256,0},{64,256,512,0},{64,512,1024,0},{64,1024,784,0},
                       {64,784,1024,1},{64,1024,512,1},{64,512,256,1},
                       {128,784,512,0},{128,512,256,0},{128,256,512,1},{128,512,784,1},
                       {64,784,400,0},{64,400,784,1},{64,20,400,0},{64,400,20,0},{64,400,20,1}};
    int ns = sizeof shapes / sizeof shapes[0];
    double tot_b = 0, tot_o = 0;
    for (int s = 0; s < ns; s++) {
        int M = shapes[s][0], K = shapes[s][1], N = shapes[s][2], tr = shapes[s][3];
        float *a = aligned_alloc(64, sizeof(float) * M * K + 64), *w = aligned_alloc(64, sizeof(float) * K * N + 64);
        float *c1 = aligned_alloc(64, sizeof(float) * M * N + 64), *c2 = aligned_alloc(64, sizeof(float) * M * N + 64);
        for (int i = 0; i < M * K; i++) a[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        for (int i = 0; i < K * N; i++) w[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        double tb[41], to[41];
        for (int r = 0; r < 41; r++) {
            double t0 = now();
            if (tr) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, a, K, w, K, 0, c1, N);
            else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, a, K, w, N, 0, c1, N);
            double t1 = now();
            if (tr) gemm_nt(M, N, K, a, K, w, K, c2, N); else gemm_nn(M, N, K, a, K, w, N, c2, N);
            double t2 = now();
            tb[r] = t1 - t0; to[r] = t2 - t1;
        }
        double err = 0; for (int i = 0; i < M * N; i++) { double d = c1[i] - c2[i]; if (d < 0) d = -d; if (d > err) err = d; }
        qsort(tb, 41, sizeof(double), cmp); qsort(to, 41, sizeof(double), cmp);
        double gf = 2.0 * M * N * K;
        printf("%4d x %4d x %4d %s  openblas %7.1f us %5.1f GF/s | own %7.1f us %5.1f GF/s | ratio %.2f  maxerr %.1e\n",
               M, K, N, tr ? "Wt" : "W ", tb[20] * 1e6, gf / tb[20] * 1e-9, to[20] * 1e6, gf / to[20] * 1e-9, tb[20] / to[20], err);
        if (s < 11) { tot_b += tb[20]; tot_o += to[20]; }
        free(a); free(w); free(c1); free(c2);
    }
    printf("large GAN shapes: total openblas %.1f us, own %.1f us\n", tot_b * 1e6, tot_o * 1e6);
}
