// Prototype (not part of the package): a Dense layer's forward C = A W, W read where it is
// instead of from its packed panels, at the large GAN's and the VAE's shapes (M rows of A,
// K = W's rows, N = W's columns):
//   packed:   the packed kernel (packed_gemm.h's pg_gemm_rows) over W's 64-column panels, packed
//             once per weight update (panel_packing.h's pg_pack_rect, streaming stores);
//   in place: the same 6 x 64 tiles reading W's rows where they are (a panel's row k is 64
//             floats of W's row k, ldw floats from the next), masked loads for a last panel, the
//             next panel's lines prefetched into L2 by row;
//   blocked:  in place, `kb` rows of W at a time (a block of a panel stays in L2 for every row
//             tile whatever W's row stride), each element's FMA chain continued from the partial
//             sums stored in C between blocks (the same bits).
// 8 MB swept between calls ("warm": not swept); alternates per repetition, medians of 31; the
// pack timed apart. Checks the bits agree.
// Measured on an Intel model 207 (2026-12-06, a noisy shared host; args "cold 16|32|64|128|256"):
// in place 1.22-1.38x the packed product's time over all shapes (rows 4 KB apart at N = 1024
// alias in L2: 1.7-2.3x there), blocked by 128-256 rows 1.10-1.11x (by 16-32: 1.15-1.21x);
// the pack 0.24-0.27x the product, once per update, whose panels batch split reads in 2 (G)
// to 6 (D) products of 64 rows. Inside the training step (`gen bench`, batch split, the pack
// skipped, 8 alternating rounds, a contended host): paired 0.92 (large GAN) and 0.95 (VAE) the
// samples/s with blocks of 128 rows, 0.94 with 256. Dropped: the panels stay.
// Run: scripts/gemm-kernel-prototypes/run (needs clang; AVX-512 CPU).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cold.h"
#include "../../Sources/CVectorMath/include/packed_gemm.h"
#include "../../Sources/CVectorMath/include/panel_packing.h"

#define IP_DECL(i) \
    __m512 w##i##0 = _mm512_setzero_ps(), w##i##1 = w##i##0, w##i##2 = w##i##0, w##i##3 = w##i##0;
#define IP_LOAD(i) \
    __m512 w##i##0 = _mm512_maskz_loadu_ps(m[0], c + (i) * (size_t)ldc), w##i##1 = _mm512_maskz_loadu_ps(m[1], c + (i) * (size_t)ldc + 16), \
           w##i##2 = _mm512_maskz_loadu_ps(m[2], c + (i) * (size_t)ldc + 32), w##i##3 = _mm512_maskz_loadu_ps(m[3], c + (i) * (size_t)ldc + 48);
#define IP_STEP(i) x = _mm512_set1_ps(a[(i) * lda + k]); \
    w##i##0 = _mm512_fmadd_ps(x, b0, w##i##0); w##i##1 = _mm512_fmadd_ps(x, b1, w##i##1); \
    w##i##2 = _mm512_fmadd_ps(x, b2, w##i##2); w##i##3 = _mm512_fmadd_ps(x, b3, w##i##3);
#define IP_STORE(i) pg_store_row(c + (i) * (size_t)ldc, w##i##0, w##i##1, m[0], m[1], 0); \
    pg_store_row(c + (i) * (size_t)ldc + 32, w##i##2, w##i##3, m[2], m[3], 0);
#define IP_TILE(name, DECL, STEP, STORE) \
__attribute__((target("avx512f,fma"), always_inline)) \
static inline void name(const float *a, size_t lda, const float *b, size_t ldb, int K, float *c, int ldc, \
                        const __mmask16 *m, const float *pf, int pf0, int pfn) { \
    DECL \
    for (int k = 0; k < K; k++) { \
        if (k < pfn) { int l = pf0 + k; _mm_prefetch((const char *)(pf + (size_t)(l >> 2) * ldb + (l & 3) * 16), _MM_HINT_T1); } \
        const float *bk = b + (size_t)k * ldb; \
        __m512 b0 = _mm512_maskz_loadu_ps(m[0], bk), b1 = _mm512_maskz_loadu_ps(m[1], bk + 16), x; \
        __m512 b2 = _mm512_maskz_loadu_ps(m[2], bk + 32), b3 = _mm512_maskz_loadu_ps(m[3], bk + 48); \
        STEP \
    } \
    STORE \
}
// Each tile twice: accumulators from zero (ip_tileR), or continuing each element's FMA chain
// from the partial sums stored in C (ip_ctileR).
#define IP_TILES(R, D) \
    IP_TILE(ip_tile##R, D(IP_DECL), D(IP_STEP), D(IP_STORE)) \
    IP_TILE(ip_ctile##R, D(IP_LOAD), D(IP_STEP), D(IP_STORE))
#define IP_ROWS6(f) f(0) f(1) f(2) f(3) f(4) f(5)
#define IP_ROWS4(f) f(0) f(1) f(2) f(3)
#define IP_ROWS2(f) f(0) f(1)
#define IP_ROWS1(f) f(0)
IP_TILES(6, IP_ROWS6)
IP_TILES(4, IP_ROWS4)
IP_TILES(2, IP_ROWS2)
IP_TILES(1, IP_ROWS1)

// C (M x N) = A (M x K) W (K x N, row-major, ldw = N), W read in place, in blocks of `kb` rows
// of W (kb = K: whole panels; a block of a panel stays in L2 for every row tile whatever W's row
// stride), each element's chain continued from C between blocks.
__attribute__((target("avx512f,fma")))
static void inplace_blocked(int M, int N, int K, const float *a, const float *w, float *c, int kb) {
    int panels = (N + 63) / 64;
    for (int p = 0; p < panels; p++) {
        int wd = N - p * 64 < 64 ? N - p * 64 : 64;
        const __mmask16 m[4] = {pg_mask(wd, 0), pg_mask(wd, 16), pg_mask(wd, 32), pg_mask(wd, 48)};
        float *cp = c + (size_t)p * 64;
        for (int k0 = 0; k0 < K; k0 += kb) {
            int kn = K - k0 < kb ? K - k0 : kb;
            const float *b = w + (size_t)k0 * N + (size_t)p * 64;
            // Prefetch the next block of this panel (or the next panel's first) by row.
            const float *next = k0 + kb < K ? b + (size_t)kb * N : (p + 1 < panels ? w + (size_t)(p + 1) * 64 : 0);
            int nk = k0 + kb < K ? (K - k0 - kb < kb ? K - k0 - kb : kb) : (kb < K ? kb : K);
            int tiles = pg_wide_tiles(M), t = 0, lines = next && tiles >= 4 ? 4 * nk : 0;
            int i = 0;
#define IP(f) f(a + (size_t)i * K + k0, K, b, N, kn, cp + (size_t)i * N, N, m, next, \
                pg_prefetch_first(t, tiles, lines), pg_prefetch_count(t, tiles, lines))
            if (k0 == 0) {
                for (; i + 6 <= M; i += 6, t++) IP(ip_tile6);
                if (i + 4 <= M) { IP(ip_tile4); i += 4; t++; }
                if (i + 2 <= M) { IP(ip_tile2); i += 2; t++; }
                if (i < M) IP(ip_tile1);
            } else {
                for (; i + 6 <= M; i += 6, t++) IP(ip_ctile6);
                if (i + 4 <= M) { IP(ip_ctile4); i += 4; t++; }
                if (i + 2 <= M) { IP(ip_ctile2); i += 2; t++; }
                if (i < M) IP(ip_ctile1);
            }
#undef IP
        }
    }
}


int main(int argc, char **argv) {
    int warm = argc > 1 && !strcmp(argv[1], "warm");
    int kblock = argc > 2 ? atoi(argv[2]) : 128;
    // (M, K, N): G's 256 -> 512, 512 -> 1024, 1024 -> 784; D's 784 -> 512, 512 -> 256; the VAE's
    // 784 -> 400, 400 -> 784, 400 -> 40.
    int shapes[][3] = {{64, 256, 512}, {64, 512, 1024}, {64, 1024, 784}, {64, 784, 512}, {64, 512, 256},
                       {64, 784, 400}, {64, 400, 784}, {64, 400, 40}};
    int count = sizeof shapes / sizeof shapes[0];
    cold_init();
    double total[4] = {0};
    for (int s = 0; s < count; s++) {
        int M = shapes[s][0], K = shapes[s][1], N = shapes[s][2];
        float *a = filled((size_t)M * K), *w = filled((size_t)K * N);
        float *panels = filled((size_t)(N + 63) / 64 * 64 * K);
        float *c0 = filled((size_t)M * N), *c1 = filled((size_t)M * N), *c2 = filled((size_t)M * N);
        pg_pack_rect(w, K, N, 0, K, 0, N, panels); pg_pack_done();
        double t[4][31];
        for (int r = 0; r < 31; r++) {
            if (!warm) flush();
            double t0 = now();
            pg_gemm_rows(0, M, N, K, a, K, panels, c0, N);
            t[0][r] = now() - t0;
            if (!warm) flush();
            t0 = now();
            inplace_blocked(M, N, K, a, w, c1, K);
            t[1][r] = now() - t0;
            if (!warm) flush();
            t0 = now();
            inplace_blocked(M, N, K, a, w, c2, kblock);
            t[2][r] = now() - t0;
            if (!warm) flush();
            t0 = now();
            pg_pack_rect(w, K, N, 0, K, 0, N, panels); pg_pack_done();
            t[3][r] = now() - t0;
        }
        if (memcmp(c0, c1, (size_t)M * N * 4) || memcmp(c0, c2, (size_t)M * N * 4)) {
            printf("M=%d K=%d N=%d: the bits differ\n", M, K, N);
            return 1;
        }
        for (int v = 0; v < 4; v++) { qsort(t[v], 31, sizeof(double), cmp); total[v] += t[v][15]; }
        printf("M=%3d K=%4d N=%4d  packed %6.1f us  in place %6.1f us (%.2fx), blocked %6.1f (%.2fx)  pack %6.1f us (%.2fx)\n",
               M, K, N, t[0][15] * 1e6, t[1][15] * 1e6, t[1][15] / t[0][15], t[2][15] * 1e6, t[2][15] / t[0][15],
               t[3][15] * 1e6, t[3][15] / t[0][15]);
        free(a); free(w); free(panels); free(c0); free(c1); free(c2);
    }
    printf("all shapes: in place / packed %.3f (blocked %.3f), pack / packed product %.3f\n",
           total[1] / total[0], total[2] / total[0], total[3] / total[0]);
    return 0;
}
