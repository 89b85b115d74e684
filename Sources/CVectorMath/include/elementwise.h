// Element-wise passes of the training step in AVX-512: Adam's update and the VAE's BCE with
// logits. Swift compiles for baseline x86-64, so its loops run 4 lanes of SSE without FMA; these
// run 16 lanes, which measured faster where a pass is bound by arithmetic (Adam's square root and
// division, BCE's exp and log1p polynomials) rather than by memory (README, Performance).
//
// Every kernel computes the same operations in the same order as the portable Swift loop it
// replaces (NN's Adam.swift and Loss.swift, Linalg's FastMath.swift), with no fused multiply-add
// (`fp contract(off)`): every result that is not NaN is the same bits on every CPU, which the
// tests check lane by lane (a NaN may carry another payload, e.g. from a NaN hyperparameter). Callers check ew_available() first.
#ifndef CVECTORMATH_ELEMENTWISE_H
#define CVECTORMATH_ELEMENTWISE_H

#include <immintrin.h>
#include <stddef.h>

/// 1 when this CPU runs the kernels below (AVX-512F), else 0.
static inline int ew_available(void) { return __builtin_cpu_supports("avx512f"); }

// Lanes i ..< n of a 16-lane block starting at i (all 16 unless it is the last, short block).
static inline __mmask16 ew_mask(ptrdiff_t i, ptrdiff_t n) {
    return n - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n - i)) - 1);
}

#define EW_C(v) _mm512_set1_ps(v)

/// Horner's scheme, p = (...(c[0] z + c[1]) z + ...) + c[n - 1], a multiply then an add per step
/// (FastMath.swift's `p = p * z + c`; its `p * z - c` steps are the same bits as `+ (-c)`).
__attribute__((target("avx512f")))
static inline __m512 ew_poly(__m512 z, const float *c, int n) {
#pragma clang fp contract(off)
    __m512 p = EW_C(c[0]);
#pragma clang loop unroll(full)
    for (int i = 1; i < n; i++) p = _mm512_add_ps(_mm512_mul_ps(p, z), EW_C(c[i]));
    return p;
}

/// Linalg's fastExp, 16 lanes: clamp, Cody-Waite reduction, Cephes' polynomial, 2^n from bits.
__attribute__((target("avx512f")))
static inline __m512 ew_exp(__m512 x) {
#pragma clang fp contract(off)
    const __m512 lo = EW_C(-87.3f), magic = EW_C(12582912.0f);
    __mmask16 under = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);  // false for NaN, as in Swift
    __m512 v = _mm512_mask_blend_ps(under, x, lo);
    v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, EW_C(88.0f), _CMP_GT_OQ), v, EW_C(88.0f));
    __m512 r = _mm512_add_ps(_mm512_mul_ps(v, EW_C(1.44269504f)), magic);
    __m512 n = _mm512_sub_ps(r, magic);
    __m512i ni = _mm512_sub_epi32(_mm512_castps_si512(r), _mm512_castps_si512(magic));
    __m512 f = _mm512_add_ps(_mm512_sub_ps(v, _mm512_mul_ps(n, EW_C(0.693359375f))),
                             _mm512_mul_ps(n, EW_C(2.1219444e-4f)));
    static const float poly[] = {1.98756915e-4f, 1.39819995e-3f, 8.3334519e-3f, 4.16657959e-2f,
                                 1.66666655e-1f, 5.00000012e-1f};
    __m512 p = ew_poly(f, poly, 6);
    __m512 y = _mm512_add_ps(_mm512_add_ps(_mm512_mul_ps(p, _mm512_mul_ps(f, f)), f), EW_C(1.0f));
    __m512 scale = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(ni, _mm512_set1_epi32(127)), 23));
    return _mm512_mask_blend_ps(under, _mm512_mul_ps(y, scale), _mm512_setzero_ps());
}

/// Linalg's fastLog1p for u in [0, 1], 16 lanes.
__attribute__((target("avx512f")))
static inline __m512 ew_log1p(__m512 u) {
#pragma clang fp contract(off)
    const __m512 one = EW_C(1.0f);
    __m512 a = _mm512_add_ps(one, u);
    __mmask16 big = _mm512_cmp_ps_mask(a, EW_C(1.4142135f), _CMP_GT_OQ);
    __m512 m = _mm512_mask_blend_ps(big, a, _mm512_mul_ps(a, EW_C(0.5f)));
    __m512 k = _mm512_maskz_mov_ps(big, one);
    __m512 z = _mm512_sub_ps(m, one);
    static const float poly[] = {7.0376836e-2f, -1.15146103e-1f, 1.16769987e-1f, -1.24201408e-1f,
                                 1.42493228e-1f, -1.66680577e-1f, 2.00007148e-1f, -2.4999994e-1f,
                                 3.33333312e-1f};
    __m512 p = ew_poly(z, poly, 9);
    __m512 z2 = _mm512_mul_ps(z, z);
    __m512 inner = _mm512_sub_ps(_mm512_mul_ps(_mm512_mul_ps(z2, z), p), _mm512_mul_ps(EW_C(0.5f), z2));
    __m512 logA = _mm512_add_ps(_mm512_add_ps(z, inner), _mm512_mul_ps(k, EW_C(0.69314718f)));
    __m512 d = _mm512_sub_ps(a, one);
    __mmask16 exact = _mm512_cmp_ps_mask(d, _mm512_setzero_ps(), _CMP_EQ_OQ);
    return _mm512_mask_blend_ps(exact, _mm512_mul_ps(logA, _mm512_div_ps(u, d)), u);
}

/// NN's binary cross-entropy with logits over n elements: loss[i] = max(x, 0) - x t +
/// log1p(e^-|x|) and grad[i] = scale (sigmoid(x) - t), as Loss.binaryCrossEntropyWithLogits.
__attribute__((target("avx512f")))
static inline void ew_bce_logits(const float *x, const float *t, float *grad, float *loss,
                                 ptrdiff_t n, float scale) {
#pragma clang fp contract(off)
    const __m512 zero = _mm512_setzero_ps(), one = EW_C(1.0f);
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    for (ptrdiff_t i = 0; i < n; i += 16) {
        __mmask16 k = ew_mask(i, n);
        __m512 xi = _mm512_maskz_loadu_ps(k, x + i), yi = _mm512_maskz_loadu_ps(k, t + i);
        __m512 e = ew_exp(_mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(xi), sign)));  // -|x|
        __m512 pos = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(xi, zero, _CMP_GT_OQ), xi);
        __m512 l = _mm512_add_ps(_mm512_sub_ps(pos, _mm512_mul_ps(xi, yi)), ew_log1p(e));
        __m512 s = _mm512_div_ps(one, _mm512_add_ps(one, e));
        __m512 sg = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(xi, zero, _CMP_GE_OQ), _mm512_mul_ps(e, s), s);
        _mm512_mask_storeu_ps(loss + i, k, l);
        _mm512_mask_storeu_ps(grad + i, k, _mm512_mul_ps(EW_C(scale), _mm512_sub_ps(sg, yi)));
    }
}

/// Adam's update (NN's Adam.swift) of elements start ..< end:
/// m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g g;  x -= step m / (sqrt(v) invBc2Sqrt + eps),
/// where, when `decay` is nonzero, g = grad + l2 x and x is first scaled by shrink (NN's
/// adamUpdate), else g = grad (NN's adamUpdateNoDecay).
__attribute__((target("avx512f")))
static inline void ew_adam(float *x, const float *g, float *m, float *v, ptrdiff_t start, ptrdiff_t end,
                           float b1, float b2, float l2, float shrink, float step, float invBc2Sqrt,
                           float eps, int decay) {
#pragma clang fp contract(off)
    const __m512 vb1 = EW_C(b1), vb2 = EW_C(b2), c1 = EW_C(1 - b1), c2 = EW_C(1 - b2);
    const __m512 vl2 = EW_C(l2), vshrink = EW_C(shrink), vstep = EW_C(step);
    const __m512 vinv = EW_C(invBc2Sqrt), veps = EW_C(eps);
    for (ptrdiff_t i = start; i < end; i += 16) {
        __mmask16 k = ew_mask(i, end);
        __m512 xi = _mm512_maskz_loadu_ps(k, x + i), gi = _mm512_maskz_loadu_ps(k, g + i);
        if (decay) {
            gi = _mm512_add_ps(gi, _mm512_mul_ps(vl2, xi));
            xi = _mm512_mul_ps(xi, vshrink);
        }
        __m512 mi = _mm512_add_ps(_mm512_mul_ps(vb1, _mm512_maskz_loadu_ps(k, m + i)), _mm512_mul_ps(c1, gi));
        __m512 vi = _mm512_add_ps(_mm512_mul_ps(vb2, _mm512_maskz_loadu_ps(k, v + i)),
                                  _mm512_mul_ps(_mm512_mul_ps(c2, gi), gi));
        _mm512_mask_storeu_ps(m + i, k, mi);
        _mm512_mask_storeu_ps(v + i, k, vi);
        __m512 den = _mm512_add_ps(_mm512_mul_ps(_mm512_sqrt_ps(vi), vinv), veps);
        _mm512_mask_storeu_ps(x + i, k, _mm512_sub_ps(xi, _mm512_div_ps(_mm512_mul_ps(vstep, mi), den)));
    }
}

/// ew_adam over elements start ..< end (row-major indices) of a rows x cols value kept only in
/// panels `width` columns wide (Linalg's PackedPanels: element (r, c) at
/// panels[(c / width) * rows * width + r * width + c % width]); g, m, v row-major, indexed as in
/// ew_adam. Runs of at most `width` elements are contiguous in both layouts; each element's
/// result is ew_adam's (element-wise: the same bits).
__attribute__((target("avx512f")))
static inline void ew_adam_panels(float *panels, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t width, const float *g,
                                  float *m, float *v, ptrdiff_t start, ptrdiff_t end, float b1, float b2, float l2,
                                  float shrink, float step, float invBc2Sqrt, float eps, int decay) {
    ptrdiff_t r = start / cols, c = start - r * cols;
    for (ptrdiff_t i = start; i < end;) {
        ptrdiff_t lo = c / width * width, stop = lo + width < cols ? lo + width : cols;
        ptrdiff_t run = stop - c < end - i ? stop - c : end - i;
        float *x = panels + lo * rows + r * width + (c - lo);
        ew_adam(x, g + i, m + i, v + i, 0, run, b1, b2, l2, shrink, step, invBc2Sqrt, eps, decay);
        i += run;
        c += run;
        if (c == cols) { c = 0; r++; }
    }
}

/// Linalg's fastTanh, 16 lanes: the odd polynomial below |x| = 0.625, (1 - e) / (1 + e) with
/// e = e^(-2|x|) above, signed.
__attribute__((target("avx512f")))
static inline __m512 ew_tanh(__m512 x) {
#pragma clang fp contract(off)
    const __m512i magnitude = _mm512_set1_epi32(0x7FFFFFFF);
    const __m512 one = EW_C(1.0f);
    __m512 ax = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), magnitude));
    __m512 e = ew_exp(_mm512_mul_ps(EW_C(-2.0f), ax));
    __m512 large = _mm512_div_ps(_mm512_sub_ps(one, e), _mm512_add_ps(one, e));
    __m512 z = _mm512_mul_ps(x, x);
    static const float poly[] = {-5.70498872e-3f, 2.06390888e-2f, -5.37397155e-2f, 1.33314422e-1f,
                                 -3.33332819e-1f};
    __m512 p = ew_poly(z, poly, 5);
    __m512 small = _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(p, z), x), x);
    __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    __m512 negated = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(large), _mm512_set1_epi32((int)0x80000000u)));
    __m512 sgn = _mm512_mask_blend_ps(negative, large, negated);
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, EW_C(0.625f), _CMP_LT_OQ), sgn, small);
}

/// Linalg's fastSigmoid, 16 lanes: 1 / (1 + e) for x >= 0, e / (1 + e) below, e = e^-|x|.
__attribute__((target("avx512f")))
static inline __m512 ew_sigmoid(__m512 x) {
#pragma clang fp contract(off)
    const __m512 one = EW_C(1.0f);
    __m512 e = ew_exp(_mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u))));
    __m512 s = _mm512_div_ps(one, _mm512_add_ps(one, e));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ), _mm512_mul_ps(e, s), s);
}

/// The activations ew_bias_act runs (NN's Activation cases but softplus).
enum { EW_IDENTITY = 0, EW_RELU = 1, EW_LEAKY_RELU = 2, EW_SIGMOID = 3, EW_TANH = 4 };

/// y[i][j] = f(y[i][j] + bias[j]) over a rows x cols row-major buffer (bias may be NULL), as
/// NN's ActivationKernels.biasActivate: relu is x < 0 ? 0 : x and leaky ReLU x < 0 ? slope x : x
/// (NaN passes through both).
__attribute__((target("avx512f")))
static inline void ew_bias_act(float *y, ptrdiff_t rows, ptrdiff_t cols, const float *bias, int kind, float slope) {
#pragma clang fp contract(off)
    const __m512 zero = _mm512_setzero_ps(), vslope = EW_C(slope);
    for (ptrdiff_t r = 0; r < rows; r++) {
        float *row = y + r * cols;
        for (ptrdiff_t j = 0; j < cols; j += 16) {
            __mmask16 k = ew_mask(j, cols);
            __m512 x = _mm512_maskz_loadu_ps(k, row + j);
            if (bias) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(k, bias + j));
            __mmask16 below = _mm512_cmp_ps_mask(x, zero, _CMP_LT_OQ);
            switch (kind) {
            case EW_RELU: x = _mm512_mask_blend_ps(below, x, zero); break;
            case EW_LEAKY_RELU: x = _mm512_mask_blend_ps(below, x, _mm512_mul_ps(vslope, x)); break;
            case EW_SIGMOID: x = ew_sigmoid(x); break;
            case EW_TANH: x = ew_tanh(x); break;
            default: break;
            }
            _mm512_mask_storeu_ps(row + j, k, x);
        }
    }
}

/// out[i] = bytes[i] / divisor - shift (Datasets' gatherBatch: pixels to [0, 1] or [-1, 1]).
__attribute__((target("avx512f")))
static inline void ew_bytes_to_float(const unsigned char *bytes, float *out, ptrdiff_t n, float divisor, float shift) {
#pragma clang fp contract(off)
    const __m512 d = EW_C(divisor), s = EW_C(shift);
    for (ptrdiff_t i = 0; i < n; i += 16) {
        __mmask16 k = ew_mask(i, n);
        __m128i raw;
        if (n - i >= 16) {
            raw = _mm_loadu_si128((const __m128i *)(bytes + i));
        } else {  // a short last block: no byte-masked load without AVX-512BW
            unsigned char tail[16] = {0};
            for (ptrdiff_t j = i; j < n; j++) tail[j - i] = bytes[j];
            raw = _mm_loadu_si128((const __m128i *)tail);
        }
        __m512i wide = _mm512_cvtepu8_epi32(raw);
        __m512 v = _mm512_sub_ps(_mm512_div_ps(_mm512_cvtepi32_ps(wide), d), s);
        _mm512_mask_storeu_ps(out + i, k, v);
    }
}

#undef EW_C
#endif
