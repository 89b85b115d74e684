// Prototype (not part of the package): a Dense layer's dX = dZ Wᵀ two ways, at the large GAN's
// and the VAE's shapes (M rows of dZ, N its columns, K the weight's rows):
//   old: the packed kernel over panels of Wᵀ (packed_gemm.h's pg_gemm_rows, B = Wᵀ's panels),
//        the panels packed once per weight update by the transposing pack below (the header's
//        until 2026-12-05);
//   new: dXᵀ = W dZᵀ by the same kernel (gemmTransposedB in Sources/Linalg/InputGradientGEMM.swift):
//        dZ transposed into panels, W read in place 48 rows at a time, each block of dXᵀ
//        transposed into dX (transpose.h).
// 8 MB swept between calls (the weights do not stay in cache from one product to the next);
// alternates old / new per repetition, medians of 31; the transposing pack of W timed apart (in
// the training step it ran once per update, split over the replicas). Checks the bits agree.
// Measured on an Intel model 207 (2026-12-05, a noisy shared host, 3 runs): the new way, its
// transposes included, 1.07-1.11x the old product's time (0.98x without them); the old pack of W
// 0.19-0.44x the old product, paid once per update (in batch split, half by each replica).
// Run: scripts/gemm-kernel-prototypes/run (needs clang; AVX-512 CPU).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cold.h"
#include "../../Sources/CVectorMath/include/packed_gemm.h"
#include "../../Sources/CVectorMath/include/transpose.h"

// The old transposing pack: 16 x 16 blocks of W into the panels of Wᵀ, streaming stores.
__attribute__((target("avx512f")))
static void transpose16(const float *src, int lds, float *dst) {
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

__attribute__((target("avx512f")))
static void pack_transposed(const float *w, int K, int N, float *pt) {
    for (int lo = 0; lo < K; lo += 16) {
        int hi = lo + 16 < K ? lo + 16 : K;
        float *dst = pt + (size_t)(lo / PG_WIDTH) * N * PG_WIDTH + lo % PG_WIDTH;
        const float *src = w + (size_t)lo * N;
        int c = 0;
        if (hi - lo == 16)
            for (; c + 16 <= N; c += 16) transpose16(src + c, N, dst + (size_t)c * PG_WIDTH);
        for (; c < N; c++)
            for (int r = 0; r < hi - lo; r++) dst[(size_t)c * PG_WIDTH + r] = src[(size_t)r * N + c];
    }
    _mm_sfence();
}

static void new_dx(int M, int N, int K, const float *dz, const float *w, float *panels, float *ct, float *dx) {
    tr_pack_transposed(dz, N, M, N, 0, N, panels);
    for (int lo = 0; lo < K; lo += 48) {
        int hi = lo + 48 < K ? lo + 48 : K;
        pg_gemm_rows(lo, hi, M, N, w, N, panels, ct, M);
        tr_transpose(ct + (size_t)lo * M, M, hi - lo, M, dx + lo, K);
    }
}


int main(void) {
    // (M, N, K): G's 1024 -> 784, 512 -> 1024, 256 -> 512 at 64 rows; D's 784 -> 512 at 64 rows and
    // 512 -> 256 at 128 stacked rows; the VAE's 400 -> 784 at 64 and 128 rows.
    int shapes[][3] = {{64, 784, 1024}, {64, 1024, 512}, {64, 512, 256}, {64, 512, 784}, {128, 256, 512},
                       {64, 400, 784}, {128, 400, 784}};
    int count = sizeof shapes / sizeof shapes[0];
    cold_init();
    double total[3] = {0};
    for (int s = 0; s < count; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        size_t wtPanels = (size_t)(K + 63) / 64 * 64 * N;
        float *dz = filled((size_t)M * N), *w = filled((size_t)K * N), *wt = filled(wtPanels);
        float *panels = filled((size_t)(M + 63) / 64 * 64 * N), *ct = filled((size_t)K * M);
        float *d0 = filled((size_t)M * K), *d1 = filled((size_t)M * K);
        pack_transposed(w, K, N, wt);
        double t[3][31];
        for (int r = 0; r < 31; r++) {
            flush();
            double t0 = now();
            pg_gemm_rows(0, M, K, N, dz, N, wt, d0, K);
            t[0][r] = now() - t0;
            flush();
            t0 = now();
            new_dx(M, N, K, dz, w, panels, ct, d1);
            t[1][r] = now() - t0;
            flush();
            t0 = now();
            pack_transposed(w, K, N, wt);
            t[2][r] = now() - t0;
        }
        if (memcmp(d0, d1, (size_t)M * K * 4)) { printf("M=%d N=%d K=%d: the bits differ\n", M, N, K); return 1; }
        for (int v = 0; v < 3; v++) { qsort(t[v], 31, sizeof(double), cmp); total[v] += t[v][15]; }
        printf("M=%4d N=%4d K=%4d  old product %7.1f us  new %7.1f us (%.2fx)  old pack of W %7.1f us (%.2fx)\n",
               M, N, K, t[0][15] * 1e6, t[1][15] * 1e6, t[1][15] / t[0][15], t[2][15] * 1e6, t[2][15] / t[0][15]);
        free(dz); free(w); free(wt); free(panels); free(ct); free(d0); free(d1);
    }
    printf("all shapes: new / old product %.3f, old pack / old product %.3f\n", total[1] / total[0], total[2] / total[0]);
    return 0;
}
