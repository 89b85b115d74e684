// Prototype (not part of the package): the packed kernel at the large GAN's step products (batch
// split: 64 rows a replica, 128 for D's stacked real and fake rows), one stream, each product
// after an 8 MB sweep (HOT=1: repeated hot), against a variant (VARIANT=):
//   0 (default) A W and W dZᵀ (dX): K blocked (chunks of KC steps, default 128; the next chunk's
//               tiles start from C's stored partial sums, so each element's sum still runs over
//               k in order); Xᵀ dZ (dW): X transposed first into a contiguous M x K block, so the
//               tiles read A's rows in order (rows of X are 1-4 KB apart: at 4 KB the 64 lines a
//               tile broadcasts from fall in one L1 set);
//   1           each tile prefetching the next tile's rows of C (dW, prefetchw: written once,
//               larger than L2) or of A (A W and dX), without the next-panel prefetch; its dX
//               runs over all of W's rows at once, not in blocks of 48 (compare 2 for dX);
//   2           dX by packed_gemm.h's pg_gemm_rows_streamed (the next tile's rows of W into L1,
//               on the first panel, with the next-panel prefetch); the others unchanged;
//   3           dX by pg_gemm_rows_panel_a (W read from its own panels, chunk by chunk, each
//               tile prefetching its rows' next chunk) against pg_gemm_rows_streamed.
// dX runs over blocks of 48 rows of W as gemmTransposedB does. Alternates current / variant per
// repetition, medians of 31; checks the bits agree.
// Measured on an Intel model 207 (2026-12-06, a shared host; time of the variant over the
// current, all shapes of a kind): 0: A W 1.26-1.29x, dX 1.05-1.06x, dW 0.985-0.987x;
// 1: dW 0.974-0.988x over 6 runs (with the next-panel prefetch kept, 0.994-1.000x), dX
// 0.948-0.975x; 2 (adopted): dX 0.963-0.971x over 4 runs; 3 (adopted): dX 0.980-0.985x over
// 5 runs (without its next-chunk prefetch, 1.036-1.060x). Hot, the current kernel ran A W at
// 186-226 GFLOP/s, dW 161-211, dX 162-225; cold the same within the host's 15-30 %.
// Run: clang -O3 -Wall -o /tmp/step_shapes step_shapes.c && VARIANT=2 /tmp/step_shapes
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cold.h"
#include "../../Sources/CVectorMath/include/packed_gemm.h"
#include "../../Sources/CVectorMath/include/transpose.h"

// A 6 x 64 tile over steps k0 ..< k1, starting from C's values when `load` (the partial sums of
// the steps before k0), else from zero; over its first `lines` steps it prefetches one line a
// step of the next tile's region (`per` lines a row, rows `stride` bytes apart, from `pf`; for
// writing, prefetchw, when `write`).
#define D(i) __m512 w##i##0, w##i##1, w##i##2, w##i##3;
#define L(i) w##i##0 = load ? _mm512_maskz_loadu_ps(m[0], c + (i) * (size_t)ldc) : _mm512_setzero_ps(); \
    w##i##1 = load ? _mm512_maskz_loadu_ps(m[1], c + (i) * (size_t)ldc + 16) : _mm512_setzero_ps(); \
    w##i##2 = load ? _mm512_maskz_loadu_ps(m[2], c + (i) * (size_t)ldc + 32) : _mm512_setzero_ps(); \
    w##i##3 = load ? _mm512_maskz_loadu_ps(m[3], c + (i) * (size_t)ldc + 48) : _mm512_setzero_ps();
#define S(i) x = _mm512_set1_ps(a[(i) * rs + o]); \
    w##i##0 = _mm512_fmadd_ps(x, b0, w##i##0); w##i##1 = _mm512_fmadd_ps(x, b1, w##i##1); \
    w##i##2 = _mm512_fmadd_ps(x, b2, w##i##2); w##i##3 = _mm512_fmadd_ps(x, b3, w##i##3);
#define T(i) pg_store_row(c + (i) * (size_t)ldc, w##i##0, w##i##1, m[0], m[1], 0); \
    pg_store_row(c + (i) * (size_t)ldc + 32, w##i##2, w##i##3, m[2], m[3], 0);
#define TILE(name, DS, LS, SS, TS) \
__attribute__((target("avx512f,fma,prfchw"), always_inline)) \
static inline void name(const float *a, size_t rs, size_t ks, const float *b, int k0, int k1, float *c, \
                        int ldc, const __mmask16 *m, int load, const char *pf, int lines, int per, \
                        size_t stride, int write) { \
    DS LS \
    int row = 0, col = 0; \
    for (int k = k0; k < k1; k++) { \
        if (k - k0 < lines) { \
            const char *q = pf + row * stride + (size_t)col * 64; \
            if (write) __builtin_prefetch(q, 1, 3); else __builtin_prefetch(q, 0, 3); \
            if (++col == per) { col = 0; row++; } \
        } \
        const float *bk = b + (size_t)k * PG_WIDTH; size_t o = (size_t)k * ks; \
        __m512 b0 = _mm512_load_ps(bk), b1 = _mm512_load_ps(bk + 16), x; \
        __m512 b2 = _mm512_load_ps(bk + 32), b3 = _mm512_load_ps(bk + 48); \
        SS \
    } \
    TS \
}
TILE(kb6, D(0) D(1) D(2) D(3) D(4) D(5), L(0) L(1) L(2) L(3) L(4) L(5), S(0) S(1) S(2) S(3) S(4) S(5),
     T(0) T(1) T(2) T(3) T(4) T(5))
TILE(kb4, D(0) D(1) D(2) D(3), L(0) L(1) L(2) L(3), S(0) S(1) S(2) S(3), T(0) T(1) T(2) T(3))
TILE(kb2, D(0) D(1), L(0) L(1), S(0) S(1), T(0) T(1))
TILE(kb1, D(0), L(0), S(0), T(0))

static int KC = 128;

// C = A B (panels of more than 32 columns), each tile prefetching the next tile's rows of C
// (`write`: dW's output, written once, larger than L2) or of A (dX's W, read once).
__attribute__((target("avx512f,fma,prfchw")))
static void prefetching(int M, int N, int K, const float *a, size_t rs, size_t ks, const float *panels, float *c,
                        int ldc, int write) {
    for (int p = 0; p < (N + PG_WIDTH - 1) / PG_WIDTH; p++) {
        int w = N - p * PG_WIDTH < PG_WIDTH ? N - p * PG_WIDTH : PG_WIDTH;
        const __mmask16 m[4] = {pg_mask(w, 0), pg_mask(w, 16), pg_mask(w, 32), pg_mask(w, 48)};
        const float *b = panels + (size_t)p * K * PG_WIDTH;
        float *cp = c + (size_t)p * PG_WIDTH;
        for (int i = 0; i < M;) {
            int r = M - i >= 6 ? 6 : M - i >= 4 ? 4 : M - i >= 2 ? 2 : 1, nx = i + r;
            int nr = M - nx >= 6 ? 6 : M - nx;
            const char *pf; int per; size_t stride;
            if (write) { pf = (const char *)(cp + (size_t)nx * ldc); per = 4; stride = (size_t)ldc * 4; }
            else { pf = (const char *)(a + (size_t)nx * rs); per = (int)((K * ks * 4 + 63) / 64); stride = rs * 4; }
            int lines = nr > 0 ? nr * per : 0;
            if (lines > K) lines = K;
#define PT(f) f(a + (size_t)i * rs, rs, ks, b, 0, K, cp + (size_t)i * ldc, ldc, m, 0, pf, lines, per, stride, write)
            if (r == 6) PT(kb6); else if (r == 4) PT(kb4); else if (r == 2) PT(kb2); else PT(kb1);
#undef PT
            i = nx;
        }
    }
}

// pg_rows without `acc` (C = A B), K in chunks of KC, for panels of more than 32 columns.
__attribute__((target("avx512f,fma,prfchw")))
static void kblocked(int M, int N, int K, const float *a, size_t rs, size_t ks, const float *panels, float *c, int ldc) {
    for (int p = 0; p < (N + PG_WIDTH - 1) / PG_WIDTH; p++) {
        int w = N - p * PG_WIDTH < PG_WIDTH ? N - p * PG_WIDTH : PG_WIDTH;
        const __mmask16 m[4] = {pg_mask(w, 0), pg_mask(w, 16), pg_mask(w, 32), pg_mask(w, 48)};
        const float *b = panels + (size_t)p * K * PG_WIDTH;
        float *cp = c + (size_t)p * PG_WIDTH;
        for (int k0 = 0; k0 < K; k0 += KC) {
            int k1 = k0 + KC < K ? k0 + KC : K, i = 0;
#define TL(f) f(a + (size_t)i * rs, rs, ks, b, k0, k1, cp + (size_t)i * ldc, ldc, m, k0 > 0, 0, 0, 1, 0, 0)
            for (; i + 6 <= M; i += 6) TL(kb6);
            if (i + 4 <= M) { TL(kb4); i += 4; }
            if (i + 2 <= M) { TL(kb2); i += 2; }
            if (i < M) TL(kb1);
#undef TL
        }
    }
}

// The package's products: dX (kind 2) in blocks of 48 rows of W as gemmTransposedB runs it,
// `streamed` by pg_gemm_rows_streamed.
__attribute__((target("avx512f,fma")))
static void current(int M, int N, int K, const float *a, size_t rs, size_t ks, const float *pw, float *c, int kind,
                    int streamed) {
    if (kind < 2) { pg_rows(0, M, N, K, a, rs, ks, 0, K, pw, c, N, 0, 0); return; }
    for (int lo = 0; lo < M; lo += 48) {
        int hi = lo + 48 < M ? lo + 48 : M;
        if (streamed) pg_gemm_rows_streamed(lo, hi, N, K, a, K, pw, c, N, M);
        else pg_gemm_rows(lo, hi, N, K, a, K, pw, c, N);
    }
}

// dX by packed_gemm.h's pg_gemm_rows_panel_a: W read from its own panels (the forward's B = W),
// in blocks of 48 rows as gemmTransposedB runs it.
__attribute__((target("avx512f,fma")))
static void panel_a(int M, int N, int K, const float *wp, const float *panels, float *c) {
    for (int lo = 0; lo < M; lo += 48)
        pg_gemm_rows_panel_a(lo, lo + 48 < M ? lo + 48 : M, N, K, wp, M, panels, c, N);
}

static float *packed(const float *w, int K, int N) {
    size_t n = (size_t)(N + PG_WIDTH - 1) / PG_WIDTH * PG_WIDTH * K;
    float *p = filled(n);
    memset(p, 0, n * 4);
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++) p[(size_t)(j / PG_WIDTH) * K * PG_WIDTH + (size_t)k * PG_WIDTH + j % PG_WIDTH] = w[(size_t)k * N + j];
    return p;
}

int main(int argc, char **argv) {
    if (!pg_available()) { fprintf(stderr, "step_shapes: no AVX-512F\n"); return 1; }
    int hot = getenv("HOT") && atoi(getenv("HOT"));
    if (getenv("KC")) KC = atoi(getenv("KC"));
    int variant = getenv("VARIANT") ? atoi(getenv("VARIANT")) : 0;
    // kind 0: C (M x N) = A (M x K) W; 1: C = Xᵀ dZ (X K x M, dW); 2: C = W dZᵀ (M = W's rows, K its
    // columns; dX by 48-row blocks of W: timed as one product over all M rows).
    int shapes[][4] = {{0, 64, 100, 256}, {0, 64, 256, 512}, {0, 64, 512, 1024}, {0, 64, 1024, 784},
                       {0, 128, 784, 512}, {0, 128, 512, 256},
                       {1, 256, 64, 512}, {1, 512, 64, 1024}, {1, 1024, 64, 784}, {1, 784, 128, 512}, {1, 512, 128, 256},
                       {2, 256, 512, 64}, {2, 512, 1024, 64}, {2, 1024, 784, 64}, {2, 784, 512, 128}, {2, 512, 256, 128}, {0, 1024, 1024, 1024}};
    int count = sizeof shapes / sizeof shapes[0];
    cold_init();
    double flops[3] = {0}, tt[3][2] = {{0}};
    for (int s = 0; s < count; s++) {
        int kind = shapes[s][0], M = shapes[s][1], K = shapes[s][2], N = shapes[s][3];
        float *a = filled((size_t)M * K), *w = filled((size_t)K * N), *pw = packed(w, K, N);
        float *c0 = filled((size_t)M * N), *c1 = filled((size_t)M * N), *xt = filled((size_t)M * K);
        float *ap = packed(a, M, K);
        size_t rs = kind == 1 ? 1 : (size_t)K, ks = kind == 1 ? (size_t)M : 1;
        double t[2][31];
        for (int r = 0; r < 31; r++)
            for (int v = 0; v < 2; v++) {
                if (!hot) flush();
                double t0 = now();
                if (v == 0) current(M, N, K, a, rs, ks, pw, c0, kind, variant == 3);
                else if (kind == 1 && variant == 0) {
                    tr_transpose(a, M, K, M, xt, K);
                    current(M, N, K, xt, K, 1, pw, c1, 1, 0);
                } else if (variant == 0) kblocked(M, N, K, a, rs, ks, pw, c1, N);
                else if (variant == 1) prefetching(M, N, K, a, rs, ks, pw, c1, N, kind == 1);
                else if (variant == 3 && kind == 2) panel_a(M, N, K, ap, pw, c1);
                else current(M, N, K, a, rs, ks, pw, c1, kind, variant == 2 || variant == 3);
                t[v][r] = now() - t0;
            }
        if (memcmp(c0, c1, (size_t)M * N * 4)) { printf("shape %d: the bits differ\n", s); return 1; }
        qsort(t[0], 31, sizeof(double), cmp); qsort(t[1], 31, sizeof(double), cmp);
        double f = 2.0 * M * N * K;
        flops[kind] += f; tt[kind][0] += t[0][15]; tt[kind][1] += t[1][15];
        printf("%s M=%4d K=%4d N=%4d  current %6.1f  variant %6.1f GFLOP/s (%.3fx the time)\n",
               kind == 0 ? "A W  " : kind == 1 ? "Xᵀ dZ" : "W dZᵀ", M, K, N, f / t[0][15] / 1e9, f / t[1][15] / 1e9,
               t[1][15] / t[0][15]);
        free(a); free(w); free(pw); free(c0); free(c1); free(xt); free(ap);
    }
    for (int k = 0; k < 3; k++)
        printf("%s all: current %6.1f variant %6.1f GFLOP/s (%.3fx)\n", k == 0 ? "A W  " : k == 1 ? "Xᵀ dZ" : "W dZᵀ",
               flops[k] / tt[k][0] / 1e9, flops[k] / tt[k][1] / 1e9, tt[k][1] / tt[k][0]);
    (void)argc; (void)argv;
    return 0;
}
