// Prototype (not part of the package): the packed kernel's panel width, 32 columns with 12 x 32
// tiles (pg_rows before 2026-12-05, rebuilt here from the header's 32-column tiles) against 64
// columns with 6 x 64 tiles (pg_rows in packed_gemm.h as it is now), at the MLPs' products of
// 64 rows a thread (A W, and dW = Xᵀ dZ with K = 64). The same weight is packed both ways;
// alternates the two per repetition, medians of 21; checks that both give the same bits (each
// element's sum runs over k in order whatever tile holds it).
// Measured on an Intel model 207 (2026-12-05, a noisy shared host): 64-column panels took
// 0.94-1.00x the time for A W and 0.88-0.94x for dW over 5 runs.
// (The 8-row against 12-row comparison before it, tile_rows.c, is in git history.)
// Run: scripts/gemm-kernel-prototypes/run (needs clang; AVX-512 CPU).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "timing.h"
#include "../../Sources/CVectorMath/include/packed_gemm.h"

// The 32-column kernel: 12-row tiles, 16 remaining rows as two of 8, then single rows.
__attribute__((target("avx512f,fma")))
static void rows32(int M, int N, int K, const float *a, size_t rs, size_t ks, const float *panels, float *c) {
    for (int p = 0; p < (N + 31) / 32; p++) {
        int w = N - p * 32 < 32 ? N - p * 32 : 32;
        __mmask16 m0 = pg_mask(w, 0), m1 = pg_mask(w, 16);
        const float *b = panels + (size_t)p * K * 32;
        float *cp = c + p * 32;
        int i = 0;
#define TILE(f) f(a + (size_t)i * rs, rs, ks, 0, K, b, 32, K, cp + (size_t)i * N, N, m0, m1, 0)
        for (; M - i >= 20 || M - i == 12; i += 12) TILE(pg_tile12);
        for (; i + 8 <= M; i += 8) TILE(pg_tile8);
        for (; i < M; i++) TILE(pg_tile1);
#undef TILE
    }
}

static float *filled(size_t n) {
    float *p; if (posix_memalign((void **)&p, 64, n * 4 + 256)) exit(1);
    for (size_t i = 0; i < n + 64; i++) p[i] = (float)(rand() % 100) / 100.f - 0.5f;
    return p;
}
// W (K x N) into panels `width` columns wide (zeros past N).
static float *packed(const float *w, int K, int N, int width) {
    size_t n = (size_t)(N + width - 1) / width * width * K;
    float *p = filled(n);
    for (size_t i = 0; i < n; i++) p[i] = 0;
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++) p[(size_t)(j / width) * K * width + (size_t)k * width + j % width] = w[(size_t)k * N + j];
    return p;
}

int main(void) {
    if (!pg_available()) { fprintf(stderr, "panel_width: no AVX-512F\n"); return 1; }
    // kind 0: C (M x N) = A (M x K) W; kind 1: C (M x N) = Xᵀ dZ, X K x M (K = 64 batch rows).
    int shapes[][4] = {{0, 64, 256, 512}, {0, 64, 512, 1024}, {0, 64, 1024, 784}, {0, 64, 784, 512}, {0, 64, 784, 400},
                       {0, 64, 400, 784}, {1, 512, 64, 1024}, {1, 1024, 64, 784}, {1, 784, 64, 512}, {1, 784, 64, 400},
                       {1, 400, 64, 784}, {1, 20, 64, 400}};
    double total[2][2] = {{0}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int kind = shapes[s][0], M = shapes[s][1], K = shapes[s][2], N = shapes[s][3];
        float *a = filled((size_t)M * K), *w = filled((size_t)K * N);
        float *b32 = packed(w, K, N, 32), *b64 = packed(w, K, N, PG_WIDTH);
        float *c32 = filled((size_t)M * N), *c64 = filled((size_t)M * N);
        size_t rs = kind ? 1 : (size_t)K, ks = kind ? (size_t)M : 1;
        double t[2][21];
        for (int r = 0; r < 21; r++)
            for (int v = 0; v < 2; v++) {
                double t0 = now();
                for (int i = 0; i < 10; i++) {
                    if (v) pg_gemm_rows_general(0, M, N, K, a, kind ? M : K, kind, b64, c64, N, 0);
                    else rows32(M, N, K, a, rs, ks, b32, c32);
                }
                t[v][r] = (now() - t0) / 10;
            }
        for (size_t i = 0; i < (size_t)M * N; i++)
            if (c32[i] != c64[i]) { printf("different bits at shape %zu, element %zu\n", s, i); return 1; }
        qsort(t[0], 21, sizeof(double), cmp); qsort(t[1], 21, sizeof(double), cmp);
        total[kind][0] += t[0][10]; total[kind][1] += t[1][10];
        printf("%s M=%4d K=%4d N=%4d  32 columns %6.1f  64 columns %6.1f GFLOP/s\n", kind ? "Xᵀ dZ" : "A W  ", M, K, N,
               2.0 * M * N * K / t[0][10] / 1e9, 2.0 * M * N * K / t[1][10] / 1e9);
        free(a); free(w); free(b32); free(b64); free(c32); free(c64);
    }
    printf("time 64 / 32 columns: A W %.3f, Xᵀ dZ %.3f\n", total[0][1] / total[0][0], total[1][1] / total[1][0]);
    return 0;
}
