// Branch-free Float32 exp, log1p, sigmoid and tanh that vectorise (no libm calls, no branches,
// integer work done with bit patterns), for activation and loss loops where glibc's expf/tanhf
// cost 10-30x more. Polynomials: Cody-Waite range reduction with the minimax coefficients of
// Cephes' expf/logf/tanhf (S. L. Moshier, "Methods and Programs for Mathematical Functions",
// 1989). Accuracy against libm, measured over the ranges documented below by LinalgTests'
// FastMathTests: exp <= 2 ulp relative, log1p <= 3e-7 relative, sigmoid and tanh <= 3e-7
// absolute (and <= 2e-6 relative where |result| >= 1e-30). NaN in gives NaN out; no finite
// input gives NaN or inf.

import CVectorMath

/// 1.5 * 2^23: adding it rounds a Float of magnitude < 2^22 to an integer in the low mantissa bits.
@usableFromInline let roundingMagic: Float = 12_582_912

/// `e^x` for Float32, relative error <= 2 ulp for `x` in [-87.3, 88.0].
///
/// Below -87.3 (including -inf) the result is exactly 0 (libm gives subnormals down to
/// -103.9: an absolute difference below 1.2e-38), so `sigmoid(-1000)` and BCE at extreme
/// logits are exact. Above 88.0 (including +inf) the input is clamped to 88.0, giving
/// `e^88 ≈ 1.65e38` instead of a larger value or inf: the result is always finite. NaN
/// propagates.
@inlinable @inline(__always)
public func fastExp(_ x: Float) -> Float {
    // Selects written so that NaN fails both comparisons and passes through.
    var v = x < -87.3 ? -87.3 : x
    v = v > 88.0 ? 88.0 : v
    // n = round(v / ln 2) via the rounding magic; ni is n as an integer from the bit pattern.
    let r = v * 1.442_695_04 + roundingMagic
    let n = r - roundingMagic
    let ni = Int32(bitPattern: r.bitPattern) &- Int32(bitPattern: roundingMagic.bitPattern)
    // f = v - n ln 2 in two parts (Cody-Waite), |f| <= 0.35.
    let f = (v - n * 0.693_359_375) + n * 2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * f + 1.398_199_95e-3
    p = p * f + 8.333_451_9e-3
    p = p * f + 4.166_579_59e-2
    p = p * f + 1.666_666_55e-1
    p = p * f + 5.000_000_12e-1
    let y = p * (f * f) + f + 1
    // 2^n built in the exponent field; n is in [-126, 127] after the clamp.
    let scale = Float(bitPattern: UInt32(bitPattern: (ni &+ 127) << 23))
    // NaN fails the comparison and keeps y * scale (NaN).
    return x < -87.3 ? 0 : y * scale
}

/// `log(1 + u)` for `u` in [0, 1] (the range `log1p(exp(-|x|))` needs), relative error
/// <= 3e-7. Outside [0, 1] the result is unspecified (but finite for finite input); NaN
/// propagates.
@inlinable @inline(__always)
public func fastLog1p(_ u: Float) -> Float {
    let a = 1 + u
    // a in [1, 2]: halve it above sqrt(2) so m is in [0.707, 1.414], log(a) = k ln2 + log(m).
    let big = a > 1.414_213_5
    let m = big ? a * 0.5 : a
    let k: Float = big ? 1 : 0
    let z = m - 1
    var p: Float = 7.037_683_6e-2
    p = p * z - 1.151_461_03e-1
    p = p * z + 1.167_699_87e-1
    p = p * z - 1.242_014_08e-1
    p = p * z + 1.424_932_28e-1
    p = p * z - 1.666_805_77e-1
    p = p * z + 2.000_071_48e-1
    p = p * z - 2.499_999_4e-1
    p = p * z + 3.333_333_12e-1
    let z2 = z * z
    let logA = (z + (z2 * z * p - 0.5 * z2)) + k * 0.693_147_18
    // 1 + u rounds: correct by u / (a - 1), exact when a - 1 == u, and for tiny u (a == 1)
    // log1p(u) = u to Float precision.
    let d = a - 1
    return d == 0 ? u : logA * (u / d)
}

/// The logistic sigmoid `1 / (1 + e^-x)`, absolute error <= 3e-7 against libm for every
/// finite `x`; never NaN or inf for finite `x`; NaN propagates. Uses `e^-|x|` only, so
/// nothing overflows: `x >= 0` gives `1 / (1 + e)`, `x < 0` gives `e / (1 + e)`.
@inlinable @inline(__always)
public func fastSigmoid(_ x: Float) -> Float {
    let e = fastExp(-Swift.abs(x))
    let s = 1 / (1 + e)
    return x >= 0 ? s : e * s
}

/// `tanh(x)`, absolute error <= 3e-7 against libm for every finite `x`; NaN propagates.
/// `|x| < 0.625`: Cephes' odd minimax polynomial (no cancellation near 0); above:
/// `sign(x) (1 - e) / (1 + e)` with `e = e^(-2|x|)`.
@inlinable @inline(__always)
public func fastTanh(_ x: Float) -> Float {
    let ax = Swift.abs(x)
    let e = fastExp(-2 * ax)
    let large = (1 - e) / (1 + e)
    let z = x * x
    var p: Float = -5.704_988_72e-3
    p = p * z + 2.063_908_88e-2
    p = p * z - 5.373_971_55e-2
    p = p * z + 1.333_144_22e-1
    p = p * z - 3.333_328_19e-1
    let small = p * z * x + x
    let signed = x < 0 ? -large : large
    return ax < 0.625 ? small : signed
}

/// `sqrt(v)`, IEEE-exact (correctly rounded, the bits of `v.squareRoot()`), that vectorises:
/// Swift's `squareRoot()` on Linux calls `sqrtf` on a slow path that may set errno, which keeps
/// every loop containing it scalar; this is the compiler's errno-free builtin (`CVectorMath`),
/// so a loop over it compiles to `sqrtps` at baseline x86-64. `sqrt(-0) = -0`, `sqrt(inf) =
/// inf`, negative `v` or NaN give NaN.
///
/// Replaced a bit-trick start plus three Newton steps (2.2e-7 relative): the hardware square
/// root is exact and made Adam's update loop 1.9x faster on a Zen 4 (`scripts/adam-loop-bench`).
/// Compiled by clang with the build's C flags: `-ffast-math` would make it approximate.
@inlinable @inline(__always)
public func fastSqrt(_ v: Float) -> Float {
    cvm_sqrtf(v)
}
