import CVectorMath
import Foundation
import Linalg

/// An element-wise activation function, fused into `Dense` or used alone in `ActivationLayer`.
///
/// Every case is defined for every Float: finite inputs give finite outputs (sigmoid at ±1000,
/// tanh at ±100, softplus at ±1000 included) and NaN propagates to a NaN output. Sigmoid, tanh
/// and softplus use Linalg's vectorising `fastExp`/`fastSigmoid`/`fastTanh`/`fastLog1p`
/// (absolute error <= 3e-7 against libm; see FastMath.swift), which are 5-30x faster than
/// glibc's `expf`/`tanhf` on a batch; softplus's derivative keeps libm's `expm1`.
///
/// Derivatives are computed from the *output* `y` (no pre-activation buffer is kept):
/// - `identity`: 1.
/// - `relu`: `y > 0 ? 1 : 0`; at exactly 0 the derivative is **0** (PyTorch's convention).
///   Backward multiplies `dy` by this 0/1 mask (branch-free), so an infinite `dy` where
///   `y <= 0` gives NaN rather than PyTorch's 0; NaN in `dy` propagates.
/// - `leakyReLU(s)`: `y > 0 ? 1 : s`; at exactly 0 the derivative is **s** (PyTorch's
///   convention, `x > 0 ? 1 : s`). Requires `s >= 0` so that the sign of `y` is that of `x`
///   (checked by the layers as a programmer error).
/// - `sigmoid`: `y (1 - y)`.
/// - `tanh`: `1 - y²`.
/// - `softplus`: `sigmoid(x) = 1 - exp(-y) = -expm1(-y)` (accurate for tiny `y`).
public enum Activation: Sendable, Equatable {
    /// `f(x) = x`.
    case identity
    /// `f(x) = max(x, 0)`; NaN stays NaN.
    case relu
    /// `f(x) = x` for `x >= 0`, `negativeSlope * x` below (Maas et al. 2013).
    case leakyReLU(negativeSlope: Float)
    /// `f(x) = 1 / (1 + exp(-x))`, evaluated without overflow for either sign.
    case sigmoid
    /// `f(x) = tanh(x)`.
    case tanh
    /// `f(x) = log(1 + exp(x))`, evaluated as `max(x, 0) + log1p(exp(-|x|))` (no overflow).
    case softplus

    /// Whether backward can take its derivative from the output (false only for a negative
    /// leaky slope or a NaN slope).
    var derivativeFromOutputIsValid: Bool {
        if case .leakyReLU(let s) = self { return s >= 0 }
        return true
    }

    /// True for the piecewise-linear activations (identity, ReLU, LeakyReLU): `f''(x) = 0`
    /// everywhere except at the kink `x = 0` (a set of measure zero), so a double backward that
    /// treats `f'` as a constant is exact almost everywhere (see `InputGradientDifferentiable`).
    public var isPiecewiseLinear: Bool {
        switch self {
        case .identity, .relu, .leakyReLU: return true
        case .sigmoid, .tanh, .softplus: return false
        }
    }

    /// `f(x)` for one value (reference path; the layers use the buffer kernels below).
    public func apply(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .relu: return ActivationKernels.relu(x)
        case .leakyReLU(let s): return ActivationKernels.leaky(x, s)
        case .sigmoid: return ActivationKernels.sigmoid(x)
        case .tanh: return fastTanh(x)
        case .softplus: return ActivationKernels.softplus(x)
        }
    }

    /// `f'(x)` expressed from the output `y = f(x)` (see the type's documentation).
    public func derivative(output y: Float) -> Float {
        switch self {
        case .identity: return 1
        case .relu: return y > 0 ? 1 : 0
        case .leakyReLU(let s): return y > 0 ? 1 : s
        case .sigmoid: return y * (1 - y)
        case .tanh: return 1 - y * y
        case .softplus: return -Foundation.expm1(-y)
        }
    }
}

/// Scalar formulas and buffer loops for the activations (the one place to optimise later).
enum ActivationKernels {
    @inline(__always) static func relu(_ x: Float) -> Float {
        // Written so that NaN fails the comparison and passes through.
        x < 0 ? 0 : x
    }

    @inline(__always) static func leaky(_ x: Float, _ s: Float) -> Float {
        x < 0 ? s * x : x
    }

    @inline(__always) static func sigmoid(_ x: Float) -> Float {
        // exp of a non-positive argument only: never overflows; branch-free (a branch on the
        // sign is mispredicted on real data). NaN stays NaN.
        fastSigmoid(x)
    }

    @inline(__always) static func softplus(_ x: Float) -> Float {
        // max(x, 0) + log1p(exp(-|x|)); NaN propagates through abs/exp/log1p.
        (x > 0 ? x : 0) + fastLog1p(fastExp(-Swift.abs(x)))
    }

    /// `biasActivate` on the calling thread alone.
    static func biasActivateSerial(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                   bias: UnsafePointer<Float>?, _ act: Activation) {
        // AVX-512 CPUs: the same loop 16 lanes wide (tanh's and sigmoid's exp bound the pass).
        if ElementwiseKernels.isAvailable, let (kind, slope) = avx512Kind(act) {
            return ew_bias_act(y, rows, cols, bias, kind, slope)
        }
        biasActivatePortable(y, rows: rows, cols: cols, bias: bias, act)
    }

    /// `ew_bias_act`'s code for `act` and its slope argument (leaky ReLU's, else unused); nil
    /// for softplus (left to the portable loop).
    static func avx512Kind(_ act: Activation) -> (kind: Int32, slope: Float)? {
        switch act {
        case .identity: return (Int32(EW_IDENTITY), 0)
        case .relu: return (Int32(EW_RELU), 0)
        case .leakyReLU(let s): return (Int32(EW_LEAKY_RELU), s)
        case .sigmoid: return (Int32(EW_SIGMOID), 0)
        case .tanh: return (Int32(EW_TANH), 0)
        case .softplus: return nil
        }
    }

    /// `biasActivate` on any CPU.
    static func biasActivatePortable(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                     bias: UnsafePointer<Float>?, _ act: Activation) {
        switch act {
        case .identity: biasMap(y, rows, cols, bias) { $0 }
        case .relu: biasMap(y, rows, cols, bias) { relu($0) }
        case .leakyReLU(let s): biasMap(y, rows, cols, bias) { leaky($0, s) }
        case .sigmoid: biasMap(y, rows, cols, bias) { sigmoid($0) }
        case .tanh: biasMap(y, rows, cols, bias) { fastTanh($0) }
        case .softplus: biasMap(y, rows, cols, bias) { softplus($0) }
        }
    }

    /// One fused pass per row: bias add and activation. A single pointer for input and output:
    /// an in-place loop over two pointers gets a runtime overlap check that fails when they are
    /// equal, and then runs the scalar fallback (measured: the GAN's tanh ran 4x slower).
    @inline(__always)
    static func biasMap(_ y: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int,
                        _ bias: UnsafePointer<Float>?, _ f: (Float) -> Float) {
        for i in 0..<rows {
            let row = y + i &* cols
            if let b = bias {
                for j in 0..<cols { row[j] = f(row[j] + b[j]) }
            } else {
                for j in 0..<cols { row[j] = f(row[j]) }
            }
        }
    }

    /// `out[i] = f(x[i])` over `count` elements (x may equal out).
    static func apply(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                      count n: Int, _ act: Activation) {
        if UnsafePointer(out) == x {
            biasActivate(out, rows: 1, cols: n, bias: nil, act)
            return
        }
        switch act {
        case .identity:
            out.update(from: x, count: n)
        case .relu:
            for i in 0..<n { out[i] = relu(x[i]) }
        case .leakyReLU(let s):
            for i in 0..<n { out[i] = leaky(x[i], s) }
        case .sigmoid:
            for i in 0..<n { out[i] = sigmoid(x[i]) }
        case .tanh:
            for i in 0..<n { out[i] = fastTanh(x[i]) }
        case .softplus:
            for i in 0..<n { out[i] = softplus(x[i]) }
        }
    }

    @inline(__always)
    static func apply(_ y: UnsafeMutablePointer<Float>, count n: Int, _ act: Activation) {
        biasActivate(y, rows: 1, cols: n, bias: nil, act)
    }

    /// `backward` on the calling thread alone.
    static func backwardSerial(gradOutput dy: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                               into dz: UnsafeMutablePointer<Float>, count n: Int, _ act: Activation) {
        switch act {
        case .identity:
            if UnsafePointer(dz) != dy { dz.update(from: dy, count: n) }
        case .relu:
            // Multiply by a 0/1 mask: a select here compiled to a branch (mispredicted on real data,
            // ~30x slower). Consequence: an infinite dy where y <= 0 gives NaN, not 0.
            for i in 0..<n { let m: Float = y[i] > 0 ? 1 : 0; dz[i] = dy[i] * m }
        case .leakyReLU(let s):
            for i in 0..<n { let m: Float = y[i] > 0 ? 1 : s; dz[i] = dy[i] * m }
        case .sigmoid:
            for i in 0..<n { let v = y[i]; dz[i] = dy[i] * (v * (1 - v)) }
        case .tanh:
            for i in 0..<n { let v = y[i]; dz[i] = dy[i] * (1 - v * v) }
        case .softplus:
            for i in 0..<n { dz[i] = dy[i] * -Foundation.expm1(-y[i]) }
        }
    }
}
