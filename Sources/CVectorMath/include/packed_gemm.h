// C = A B for a weight B kept packed in 64-column panels (Linalg's PackedPanels), AVX-512.
//
// Why our own kernel: OpenBLAS packs B on every call, so a Dense weight is copied at every
// product by it (forward and dX, in every replica): about an eighth of the large MLP GAN's step
// on a Zen 4. A weight changes once per optimiser step, so it is packed then (as B = W for the
// forward), and every product reads the panels as they are; dX = dZ Wᵀ runs as dXᵀ = W dZᵀ, W
// read as A from the same panels (or row-major, in place) and the batch's dZ packed (Linalg's
// gemmTransposedB, transpose.h).
// Measured against cblas_sgemm at the MLPs' shapes in scripts/gemm-kernel-prototypes.
//
// Layout of a packed K x N matrix B: panel p (0 <= p < ceil(N / 64)) holds columns
// 64p ..< 64p + 64 of every row k, k-major: element (k, j) at p * K * 64 + k * 64 + (j - 64p).
// Columns past N are zeroed when a buffer is made and never packed into (a scratch buffer reused
// for a narrower B may hold older values there); whatever they hold only reaches lanes the
// kernel's masked stores drop.
//
// Why 64 columns: a 6 x 64 tile loads B's 4 vectors and 6 broadcasts of A for 24 FMAs, where a
// 12 x 32 tile (the panels' width before 2026-12-05) loads 2 and 12: 10 loads, not 14, per 24
// FMAs. Measured at the MLPs' shapes on an Intel model 207 (scripts/gemm-kernel-prototypes/
// panel_width.c, 5 runs on a noisy shared host): 0.94-1.00x the time for A W, 0.88-0.94x for dW;
// in `gen bench` (8 alternating rounds) paired 1.04 (article GAN), 1.05 (VAE), 1.10 (large GAN)
// the samples/s. The bits are the same: each element's sum still runs over k in order.
#ifndef CVECTORMATH_PACKED_GEMM_H
#define CVECTORMATH_PACKED_GEMM_H

/// Columns per panel.
#define PG_WIDTH 64

#include <immintrin.h>
#include <stddef.h>

/// 1 when this CPU runs the AVX-512 kernel (AVX-512F and FMA), else 0.
static inline int pg_available(void) {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
}

// Stores a row's two halves of a tile (masked), or adds them to C's values first (`acc`: C + sum,
// as BLAS's beta 1 with alpha 1).
__attribute__((target("avx512f"), always_inline))
static inline void pg_store_row(float *c, __m512 v0, __m512 v1, __mmask16 m0, __mmask16 m1, int acc) {
    if (acc) {
        v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, c), v0);
        v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, c + 16), v1);
    }
    _mm512_mask_storeu_ps(c, m0, v0);
    _mm512_mask_storeu_ps(c + 16, m1, v1);
}

// 32-column tiles: R rows of C (R = 12, 8, 1) times the first 32 columns of one panel (a last
// panel of at most 32 columns), masks m0/m1 for its width; the panel's rows are `bs` floats
// apart (PG_WIDTH; 32 in the prototype that measures the 32-column panels of before).
// A's element (r, k) is a[r * rs + k * ks]: rs = lda, ks = 1 for A itself; rs = 1, ks = ldx for
// A = Xᵀ of a row-major X (the values of a step k are then adjacent). With `kc` < K, A is read
// in chunks of kc steps, chunk j from a + j * cs (A = W in its own panels, dX: rs = PG_WIDTH,
// ks = 1, kc = PG_WIDTH, cs = a panel). Every caller passes
// constant strides and `acc`, so each use compiles to its own loop. Each element's sum is one
// FMA chain over k in order, in every tile, so a row's bits do not depend on its tile.
// 12 x 32 uses 24 accumulators (27 of the 32 zmm registers with B's two vectors and the
// broadcast): each step loads B's 2 vectors once for 24 FMAs, not 16. Measured at the MLPs'
// shapes (A W at 64 rows a thread, dW with K = 64) on an Intel model 207: against 8-row tiles,
// 0.90-0.97x the time for dW = Xᵀ dZ, 0.96-1.00x for A W (scripts/gemm-kernel-prototypes/
// tile_rows.c, in git history before 2026-12-05 evening).
// Written out by hand (macros): a loop over an array of accumulators is not unrolled into
// registers when the module is compiled inside a Swift build (it spilled every accumulator).
#define PG_DECL(i) __m512 s##i##0 = _mm512_setzero_ps(), s##i##1 = s##i##0;
#define PG_STEP(i) x = _mm512_set1_ps(ac[(i) * rs + o]); \
    s##i##0 = _mm512_fmadd_ps(x, b0, s##i##0); s##i##1 = _mm512_fmadd_ps(x, b1, s##i##1);
#define PG_STORE(i) pg_store_row(c + (i) * (size_t)ldc, s##i##0, s##i##1, m0, m1, acc);
#define PG_TILE(name, DECL, STEP, STORE) \
__attribute__((target("avx512f,fma"), always_inline)) \
static inline void name(const float *a, size_t rs, size_t ks, size_t cs, int kc, const float *b, size_t bs, \
                        int K, float *c, int ldc, __mmask16 m0, __mmask16 m1, int acc) { \
    DECL \
    const float *ac = a; \
    for (int k0 = 0; k0 < K; k0 += kc, ac += cs) { \
        int k1 = K - k0 < kc ? K : k0 + kc; \
        for (int k = k0; k < k1; k++) { \
            const float *bk = b + (size_t)k * bs; \
            size_t o = (size_t)(k - k0) * ks; \
            __m512 b0 = _mm512_load_ps(bk), b1 = _mm512_load_ps(bk + 16), x; \
            STEP \
        } \
    } \
    STORE \
}
PG_TILE(pg_tile12,
        PG_DECL(0) PG_DECL(1) PG_DECL(2) PG_DECL(3) PG_DECL(4) PG_DECL(5)
        PG_DECL(6) PG_DECL(7) PG_DECL(8) PG_DECL(9) PG_DECL(10) PG_DECL(11),
        PG_STEP(0) PG_STEP(1) PG_STEP(2) PG_STEP(3) PG_STEP(4) PG_STEP(5)
        PG_STEP(6) PG_STEP(7) PG_STEP(8) PG_STEP(9) PG_STEP(10) PG_STEP(11),
        PG_STORE(0) PG_STORE(1) PG_STORE(2) PG_STORE(3) PG_STORE(4) PG_STORE(5)
        PG_STORE(6) PG_STORE(7) PG_STORE(8) PG_STORE(9) PG_STORE(10) PG_STORE(11))
PG_TILE(pg_tile8,
        PG_DECL(0) PG_DECL(1) PG_DECL(2) PG_DECL(3) PG_DECL(4) PG_DECL(5) PG_DECL(6) PG_DECL(7),
        PG_STEP(0) PG_STEP(1) PG_STEP(2) PG_STEP(3) PG_STEP(4) PG_STEP(5) PG_STEP(6) PG_STEP(7),
        PG_STORE(0) PG_STORE(1) PG_STORE(2) PG_STORE(3) PG_STORE(4) PG_STORE(5) PG_STORE(6) PG_STORE(7))
PG_TILE(pg_tile1, PG_DECL(0), PG_STEP(0), PG_STORE(0))
#undef PG_TILE
#undef PG_STORE
#undef PG_STEP
#undef PG_DECL

// 64-column tiles: R rows of C over a whole panel, 4 accumulators a row (masks m[0..3] for a
// last panel of 33..63 columns). Written out by hand, as the 32-column tiles. The first `pfn` steps each
// prefetch one cache line into L2, from `pf` on (a share of the next panel, pg_rows); the first
// `qn` steps each prefetch one line into L1 of the next tile's rows of A (`qper` lines a row,
// rows `qstride` bytes apart, from `qa`; pg_rows' `stream_end`). A chunked as in the 32-column
// tiles (`cs`, `kc`); with `cpf` (chunked A in panels), the first cpf steps of each chunk
// prefetch the next chunk of the tile's rows (cpf lines in one piece) into L1, or in the last
// chunk the next tile's first (from `qa`).
#define PG_W_DECL(i) \
    __m512 w##i##0 = _mm512_setzero_ps(), w##i##1 = w##i##0, w##i##2 = w##i##0, w##i##3 = w##i##0;
#define PG_W_STEP(i) x = _mm512_set1_ps(ac[(i) * rs + o]); \
    w##i##0 = _mm512_fmadd_ps(x, b0, w##i##0); w##i##1 = _mm512_fmadd_ps(x, b1, w##i##1); \
    w##i##2 = _mm512_fmadd_ps(x, b2, w##i##2); w##i##3 = _mm512_fmadd_ps(x, b3, w##i##3);
#define PG_W_LOAD const float *bk = b + (size_t)k * PG_WIDTH; size_t o = (size_t)(k - k0) * ks; \
    __m512 b0 = _mm512_load_ps(bk), b1 = _mm512_load_ps(bk + 16), x; \
    __m512 b2 = _mm512_load_ps(bk + 32), b3 = _mm512_load_ps(bk + 48);
#define PG_W_STORE(i) pg_store_row(c + (i) * (size_t)ldc, w##i##0, w##i##1, m[0], m[1], acc); \
    pg_store_row(c + (i) * (size_t)ldc + 32, w##i##2, w##i##3, m[2], m[3], acc);
#define PG_W_TILE(name, DECL, STEP, STORE) \
__attribute__((target("avx512f,fma"), always_inline)) \
static inline void name(const float *a, size_t rs, size_t ks, size_t cs, int kc, int cpf, const float *b, \
                        int K, float *c, int ldc, const __mmask16 *m, int acc, const char *pf, int pfn, \
                        const char *qa, int qn, int qper, size_t qstride) { \
    DECL \
    int qcol = 0; \
    const float *ac = a; \
    for (int k0 = 0; k0 < K; k0 += kc, ac += cs) { \
        int k1 = K - k0 < kc ? K : k0 + kc; \
        const char *nc = k1 < K ? (const char *)(ac + cs) : qa; \
        for (int k = k0; k < k1; k++) { \
            if (k < pfn) _mm_prefetch(pf + (size_t)k * 64, _MM_HINT_T1); \
            if (k - k0 < cpf) _mm_prefetch(nc + (size_t)(k - k0) * 64, _MM_HINT_T0); \
            if (k < qn) { \
                _mm_prefetch(qa + (size_t)qcol * 64, _MM_HINT_T0); \
                if (++qcol == qper) { qcol = 0; qa += qstride; } \
            } \
            PG_W_LOAD STEP \
        } \
    } \
    STORE \
}
// 6 x 64: 24 accumulators, B's 4 vectors, the broadcast (29 of the 32 zmm registers).
PG_W_TILE(pg_wtile6, PG_W_DECL(0) PG_W_DECL(1) PG_W_DECL(2) PG_W_DECL(3) PG_W_DECL(4) PG_W_DECL(5),
          PG_W_STEP(0) PG_W_STEP(1) PG_W_STEP(2) PG_W_STEP(3) PG_W_STEP(4) PG_W_STEP(5),
          PG_W_STORE(0) PG_W_STORE(1) PG_W_STORE(2) PG_W_STORE(3) PG_W_STORE(4) PG_W_STORE(5))
PG_W_TILE(pg_wtile4, PG_W_DECL(0) PG_W_DECL(1) PG_W_DECL(2) PG_W_DECL(3),
          PG_W_STEP(0) PG_W_STEP(1) PG_W_STEP(2) PG_W_STEP(3),
          PG_W_STORE(0) PG_W_STORE(1) PG_W_STORE(2) PG_W_STORE(3))
PG_W_TILE(pg_wtile2, PG_W_DECL(0) PG_W_DECL(1), PG_W_STEP(0) PG_W_STEP(1), PG_W_STORE(0) PG_W_STORE(1))
PG_W_TILE(pg_wtile1, PG_W_DECL(0), PG_W_STEP(0), PG_W_STORE(0))
#undef PG_W_TILE
#undef PG_W_STORE
#undef PG_W_LOAD
#undef PG_W_STEP
#undef PG_W_DECL

// Row tiles pg_rows runs over `rows` rows of a 64-column panel: 6s, then one each of 4, 2, 1.
static inline int pg_wide_tiles(int rows) {
    int r = rows % 6;
    return rows / 6 + (r >= 4) + (r % 4 >= 2) + (r % 2);
}

// The first of the next panel's `lines` that tile t of `tiles` prefetches (a share each, in
// order; `lines` itself, one past the end, for a tile left without), and how many.
static inline int pg_prefetch_first(int t, int tiles, int lines) {
    int first = t * ((lines + tiles - 1) / tiles);
    return first < lines ? first : lines;
}
static inline int pg_prefetch_count(int t, int tiles, int lines) {
    int share = (lines + tiles - 1) / tiles, rest = lines - pg_prefetch_first(t, tiles, lines);
    return rest < share ? rest : share;
}

// Lanes lo ..< lo + 16 of a panel `w` columns wide that hold columns of B.
static inline __mmask16 pg_mask(int w, int lo) {
    int n = w - lo;
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1);
}

// The lines of A a tile prefetches for the next tile, which starts at row `next`: that tile's
// rows (6, else 4, 2 or 1 of those before `end`, as pg_rows runs them) of `per` lines each, at
// most K (one a step); 0 when `on` is 0.
static inline int pg_stream_lines(int on, int next, int end, int per, int K) {
    int left = end - next, rows = left >= 6 ? 6 : left >= 4 ? 4 : left >= 2 ? 2 : left > 0 ? left : 0;
    return on ? (rows * per < K ? rows * per : K) : 0;
}

// Rows row0 ..< row1 of C (N columns, ldc) = A B, or C + A B with `acc`; A's element (r, k) at
// a[r * rs + (k / kc) * cs + (k % kc) * ks] (kc = K: one chunk, a[r * rs + k * ks]), B packed
// as above in 64-byte aligned `panels`. Each element's sum runs
// over k in order, whichever tile holds it, so any split of the rows gives the same bits.
// With `stream_end` > 0 (A row-major, ks 1, read once from memory: dX's W read in place), each
// tile of the first panel prefetches the next tile's rows of A into L1, rows before stream_end
// (row1, or the end of a caller's range run in blocks).
__attribute__((target("avx512f,fma"), always_inline))
static inline void pg_rows(int row0, int row1, int N, int K, const float *a, size_t rs, size_t ks, size_t cs,
                           int kc, const float *panels, float *c, int ldc, int acc, int stream_end) {
    for (int p = 0; p < (N + PG_WIDTH - 1) / PG_WIDTH; p++) {
        int w = N - p * PG_WIDTH < PG_WIDTH ? N - p * PG_WIDTH : PG_WIDTH;
        const __mmask16 m[4] = {pg_mask(w, 0), pg_mask(w, 16), pg_mask(w, 32), pg_mask(w, 48)};
        const float *b = panels + (size_t)p * K * PG_WIDTH;
        float *cp = c + (size_t)p * PG_WIDTH;
        int i = row0;
        if (w <= 32) {
            // A last panel of at most 32 columns: 12-row tiles, but 16 remaining rows go as two
            // of 8 (64 rows: 12, 12, 12, 12, 8, 8).
#define PG_NARROW(f) f(a + (size_t)i * rs, rs, ks, cs, kc, b, PG_WIDTH, K, cp + (size_t)i * ldc, ldc, m[0], m[1], acc)
            for (; row1 - i >= 20 || row1 - i == 12; i += 12) PG_NARROW(pg_tile12);
            for (; i + 8 <= row1; i += 8) PG_NARROW(pg_tile8);
            for (; i < row1; i++) PG_NARROW(pg_tile1);
#undef PG_NARROW
            continue;
        }
        // While this panel's tiles run (from L2 after the first), they prefetch the next panel
        // into L2, a share each, so its first tile does not wait on L3: a weight of 1-3 MB
        // does not stay in a 2 MB L2 from one product to the next. With 4 or more tiles (a
        // share is then at most K lines, one per step). Measured at the MLPs' A W shapes on
        // an Intel model 207 (8 MB swept between products): 0.91-0.96x the time; dW (K = 64:
        // a panel of 16 KB) 0.98-1.01x. In `gen bench` (8 alternating rounds): paired 1.27
        // (article GAN), 1.11 (VAE), 1.10 (large GAN) the samples/s.
        int tiles = pg_wide_tiles(row1 - row0), t = 0;
        // A panel row is 4 cache lines.
        int lines = p + 1 < (N + PG_WIDTH - 1) / PG_WIDTH && tiles >= 4 ? 4 * K : 0;
        const char *next = (const char *)(b + (size_t)K * PG_WIDTH);
        // A row of A is qper lines; at most K lines a tile (one a step).
        int qper = (int)(((size_t)K * 4 + 63) / 64), qa = stream_end > 0 && p == 0;
#define PG_NEXT next + (size_t)pg_prefetch_first(t, tiles, lines) * 64, pg_prefetch_count(t, tiles, lines)
        // Chunked A (in panels, rs = PG_WIDTH): a chunk of r rows is r * 4 lines in one piece.
#define PG_TILE(f, r) f(a + (size_t)i * rs, rs, ks, cs, kc, kc < K ? (r) * 4 : 0, b, K, cp + (size_t)i * ldc, \
                        ldc, m, acc, PG_NEXT, \
                        (const char *)(a + (size_t)(i + (r)) * rs), \
                        pg_stream_lines(qa, i + (r), stream_end, qper, K), qper, rs * 4)
        // 64 rows: ten 6-row tiles and one of 4.
        for (; i + 6 <= row1; i += 6, t++) PG_TILE(pg_wtile6, 6);
        if (i + 4 <= row1) { PG_TILE(pg_wtile4, 4); i += 4; t++; }
        if (i + 2 <= row1) { PG_TILE(pg_wtile2, 2); i += 2; t++; }
        if (i < row1) PG_TILE(pg_wtile1, 1);
#undef PG_TILE
#undef PG_NEXT
    }
}

/// C (M x N, ldc) = A (M x K, lda) B, B packed as above in 64-byte aligned `panels`.
/// Rows row0 ..< row1 of C only (a thread's share); each element's sum runs over k in order,
/// so any split of the rows gives the same bits.
__attribute__((target("avx512f,fma")))
static inline void pg_gemm_rows(int row0, int row1, int N, int K, const float *a, int lda,
                                const float *panels, float *c, int ldc) {
    pg_rows(row0, row1, N, K, a, (size_t)lda, 1, 0, K, panels, c, ldc, 0, 0);
}

/// pg_gemm_rows for an A read once from memory (dX = dZ Wᵀ as dXᵀ = W dZᵀ, W read in place,
/// Linalg's gemmTransposedB, which runs a thread's rows in blocks): each tile of the first panel
/// prefetches the next tile's rows of A into L1, rows before `stream_end` (>= row1: the end of
/// the caller's range, so a block's last tile prefetches the next block's first). Same bits as
/// pg_gemm_rows. Measured at the large GAN's dX shapes on an Intel model
/// 207 (scripts/gemm-kernel-prototypes/step_shapes.c VARIANT=2, 8 MB swept between products, 4
/// runs): 0.963-0.971x the time.
__attribute__((target("avx512f,fma")))
static inline void pg_gemm_rows_streamed(int row0, int row1, int N, int K, const float *a, int lda,
                                         const float *panels, float *c, int ldc, int stream_end) {
    pg_rows(row0, row1, N, K, a, (size_t)lda, 1, 0, K, panels, c, ldc, 0, stream_end);
}

/// Rows row0 ..< row1 of C (M x N, ldc) = W B, W (M x K) given by its own panels (`wpanels`,
/// packed as above: M rows a panel) and read chunk by chunk, 64 steps of k a panel; B (K x N)
/// packed as above. dX = dZ Wᵀ as dXᵀ = W dZᵀ from the forward's panels
/// (Linalg's gemmTransposedB(_:packed:into:scratch:)), so the step never reads W row-major.
/// Each tile prefetches its rows' next chunk (1.5 KB in one piece for 6 rows) into L1. Each
/// element's sum runs over k in order: the same bits as pg_gemm_rows over W row-major.
/// Measured at the large GAN's dX shapes on an Intel model 207 (scripts/gemm-kernel-prototypes/
/// step_shapes.c VARIANT=3, 8 MB swept between products, 5 runs): 0.980-0.985x the time of
/// pg_gemm_rows_streamed over W row-major (without the prefetch, 1.036-1.060x).
__attribute__((target("avx512f,fma")))
static inline void pg_gemm_rows_panel_a(int row0, int row1, int N, int K, const float *wpanels, int M,
                                        const float *panels, float *c, int ldc) {
    pg_rows(row0, row1, N, K, wpanels, PG_WIDTH, 1, (size_t)M * PG_WIDTH, PG_WIDTH, panels, c, ldc, 0, 0);
}

/// C (M x N, ldc) = Xᵀ B, or with `accumulate` C += Xᵀ B (a Dense layer's dW += Xᵀ dZ), X
/// being K x M (ldx, row-major: a batch's rows), B (K x N) packed as above. Rows
/// row0 ..< row1 of C only.
__attribute__((target("avx512f,fma")))
static inline void pg_gemm_rows_at(int row0, int row1, int N, int K, const float *x, int ldx,
                                   const float *panels, float *c, int ldc, int accumulate) {
    pg_rows(row0, row1, N, K, x, 1, (size_t)ldx, 0, K, panels, c, ldc, accumulate ? 1 : 0, 0);
}

/// Rows row0 ..< row1 of C (N columns, ldc) = op(A) B, or C + op(A) B with `accumulate`:
/// op(A)'s element (r, k) is a[r * lda + k] (transA 0) or a[k * lda + r] (transA 1, A stored
/// K x M), B packed as above. For a general sgemm routed to our kernel (Linalg's
/// OwnKernelGEMM).
__attribute__((target("avx512f,fma")))
static inline void pg_gemm_rows_general(int row0, int row1, int N, int K, const float *a, int lda, int transA,
                                        const float *panels, float *c, int ldc, int accumulate) {
    if (transA)
        pg_rows(row0, row1, N, K, a, 1, (size_t)lda, 0, K, panels, c, ldc, accumulate ? 1 : 0, 0);
    else
        pg_rows(row0, row1, N, K, a, (size_t)lda, 1, 0, K, panels, c, ldc, accumulate ? 1 : 0, 0);
}
#endif
