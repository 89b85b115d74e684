// Prototype (not part of the package): C = A B with B packed once into 32-column panels, an
// AVX-512 8 x 32 kernel, against cblas_sgemm (OpenBLAS, one thread) at the large GAN's products
// of 64 and 128 rows: per shape the median of 41 warm calls each, the packing timed apart.
// Measured on a Zen 4 (2026-12-04): the kernel 1.1-1.6x cblas_sgemm with the packing not
// counted. Run: scripts/gemm-kernel-prototypes/run (needs clang and libopenblas-dev; AVX-512 CPU).
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "tiles.h"
extern void openblas_set_num_threads(int);


// B (K x N, row-major, ldb) -> panels of 32 columns, k-major, zero-padded: size K * ceil(N/32)*32
static void pack_b(const float *b, int K, int N, int ldb, float *bp) {
    int panels = (N + 31) / 32;
    for (int p = 0; p < panels; p++) {
        int j0 = p * 32, w = N - j0 < 32 ? N - j0 : 32;
        float *dst = bp + (size_t)p * K * 32;
        for (int k = 0; k < K; k++) {
            memcpy(dst + k * 32, b + (size_t)k * ldb + j0, w * sizeof(float));
            if (w < 32) memset(dst + k * 32 + w, 0, (32 - w) * sizeof(float));
        }
    }
}
// B^T packing: op(B) = W^T where W is N x K row-major (ldw): panel column j = W row j.
static void pack_bt(const float *w, int K, int N, int ldw, float *bp) {
    int panels = (N + 31) / 32;
    for (int p = 0; p < panels; p++) {
        float *dst = bp + (size_t)p * K * 32;
        for (int jj = 0; jj < 32; jj++) {
            int j = p * 32 + jj;
            if (j < N) { const float *row = w + (size_t)j * ldw; for (int k = 0; k < K; k++) dst[k * 32 + jj] = row[k]; }
            else for (int k = 0; k < K; k++) dst[k * 32 + jj] = 0;
        }
    }
}

// C (M x N) = A (M x K, lda) * Bpacked
static void pgemm(int M, int N, int K, const float *a, int lda, const float *bp, float *c, int ldc) {
    int panels = (N + 31) / 32;
    for (int p = 0; p < panels; p++) {
        int w = N - p * 32 < 32 ? N - p * 32 : 32;
        __mmask16 m0 = w >= 16 ? 0xFFFF : (__mmask16)((1u << w) - 1);
        __mmask16 m1 = w >= 32 ? 0xFFFF : w <= 16 ? 0 : (__mmask16)((1u << (w - 16)) - 1);
        const float *b = bp + (size_t)p * K * 32;
        int i = 0;
        for (; i + 8 <= M; i += 8) nn8(a + (size_t)i * lda, lda, b, 32, K, c + (size_t)i * ldc + p * 32, ldc, m0, m1);
        for (; i < M; i++) nn1(a + (size_t)i * lda, b, 32, K, c + (size_t)i * ldc + p * 32, m0, m1);
    }
}


int main(void) {
    openblas_set_num_threads(1);
    // M, K, N, transposed weight (dX = dZ W^T with W stored K'... ) flag
    int shapes[][4] = {{64,100,256,0},{64,256,512,0},{64,512,1024,0},{64,1024,784,0},
                       {64,784,1024,1},{64,1024,512,1},{64,512,256,1},
                       {128,784,512,0},{128,512,256,0},{128,256,512,1},{128,512,784,1}};
    int ns = sizeof shapes / sizeof shapes[0];
    double tot_b = 0, tot_o = 0, tot_p = 0;
    for (int s = 0; s < ns; s++) {
        int M = shapes[s][0], K = shapes[s][1], N = shapes[s][2], tr = shapes[s][3];
        float *a = aligned_alloc(64, sizeof(float) * M * K), *w = aligned_alloc(64, sizeof(float) * K * N);
        float *c1 = aligned_alloc(64, sizeof(float) * M * N), *c2 = aligned_alloc(64, sizeof(float) * M * N);
        size_t pn = (size_t)((N + 31) / 32) * 32 * K;
        float *bp = aligned_alloc(64, sizeof(float) * pn);
        for (int i = 0; i < M * K; i++) a[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        for (int i = 0; i < K * N; i++) w[i] = (float)rand() / (float)RAND_MAX - 0.5f;
        // tr: W is N x K (op(B) = W^T), else W is K x N
        double tb[41], to[41], tp[41];
        for (int r = 0; r < 41; r++) {
            double t0 = now();
            if (tr) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, a, K, w, K, 0, c1, N);
            else cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, a, K, w, N, 0, c1, N);
            double t1 = now();
            if (tr) pack_bt(w, K, N, K, bp); else pack_b(w, K, N, N, bp);
            double t2 = now();
            pgemm(M, N, K, a, K, bp, c2, N);
            double t3 = now();
            tb[r] = t1 - t0; tp[r] = t2 - t1; to[r] = t3 - t2;
        }
        double err = 0; for (int i = 0; i < M * N; i++) { double d = c1[i] - c2[i]; if (d < 0) d = -d; if (d > err) err = d; }
        qsort(tb, 41, sizeof(double), cmp); qsort(to, 41, sizeof(double), cmp); qsort(tp, 41, sizeof(double), cmp);
        double gf = 2.0 * M * N * K;
        printf("%4d x %4d x %4d %s  openblas %7.1f us %5.1f GF/s | own kernel %7.1f us %5.1f GF/s | pack %6.1f us | ratio %.2f  maxerr %.1e\n",
               M, K, N, tr ? "Wt" : "W ", tb[20] * 1e6, gf / tb[20] * 1e-9, to[20] * 1e6, gf / to[20] * 1e-9, tp[20] * 1e6, tb[20] / to[20], err);
        tot_b += tb[20]; tot_o += to[20]; tot_p += tp[20];
        free(a); free(w); free(c1); free(c2); free(bp);
    }
    printf("total openblas %.1f us, own kernel %.1f us (+ pack once %.1f us)\n", tot_b * 1e6, tot_o * 1e6, tot_p * 1e6);
}
