import Foundation
import XCTest
import Linalg
@testable import NN

/// A convolution's shape for the Double references: `n` samples of `c x h x w` in NCHW rows.
struct ConvCase: CustomStringConvertible {
    let n: Int, c: Int, h: Int, w: Int, o: Int, k: Int, s: Int, p: Int
    var outputPadding = 0
    var bias = true
    /// Conv2d output size (floor), PyTorch's formula.
    var convOut: (h: Int, w: Int) { ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1) }
    /// ConvTranspose2d output size, PyTorch's formula.
    var transposeOut: (h: Int, w: Int) {
        ((h - 1) * s - 2 * p + k + outputPadding, (w - 1) * s - 2 * p + k + outputPadding)
    }
    var description: String { "n\(n) \(c)->\(o) \(h)x\(w) k\(k) s\(s) p\(p) op\(outputPadding)\(bias ? "" : " nobias")" }
}

/// Direct-loop cross-correlation in Double, the definition of `nn.Conv2d`:
/// `y[n, o, a, b] = bias[o] + Σ_{c,i,j} x[n, c, a·s - p + i, b·s - p + j] w[o, c, i, j]` (zero padding).
func refConv2d(_ x: [Double], _ w: [Double], _ b: [Double], _ cc: ConvCase) -> [Double] {
    let (oh, ow) = cc.convOut
    var y = [Double](repeating: 0, count: cc.n * cc.o * oh * ow)
    for n in 0..<cc.n { for o in 0..<cc.o { for a in 0..<oh { for bb in 0..<ow {
        var sum = cc.bias ? b[o] : 0
        for c in 0..<cc.c { for i in 0..<cc.k { for j in 0..<cc.k {
            let ih = a * cc.s - cc.p + i, iw = bb * cc.s - cc.p + j
            if ih < 0 || ih >= cc.h || iw < 0 || iw >= cc.w { continue }
            sum += x[((n * cc.c + c) * cc.h + ih) * cc.w + iw] * w[((o * cc.c + c) * cc.k + i) * cc.k + j]
        } } }
        y[((n * cc.o + o) * oh + a) * ow + bb] = sum
    } } } }
    return y
}

/// Direct-loop transposed convolution in Double, the scatter definition of
/// `nn.ConvTranspose2d`: every input element adds `x[n, c, a, b] w[c, o, i, j]` to
/// `y[n, o, a·s - p + i, b·s - p + j]` (dropped outside the output), plus `bias[o]`.
func refConvTranspose2d(_ x: [Double], _ w: [Double], _ b: [Double], _ cc: ConvCase) -> [Double] {
    let (oh, ow) = cc.transposeOut
    var y = [Double](repeating: 0, count: cc.n * cc.o * oh * ow)
    for n in 0..<cc.n { for c in 0..<cc.c { for a in 0..<cc.h { for bb in 0..<cc.w {
        let v = x[((n * cc.c + c) * cc.h + a) * cc.w + bb]
        for o in 0..<cc.o { for i in 0..<cc.k { for j in 0..<cc.k {
            let yh = a * cc.s - cc.p + i, yw = bb * cc.s - cc.p + j
            if yh < 0 || yh >= oh || yw < 0 || yw >= ow { continue }
            y[((n * cc.o + o) * oh + yh) * ow + yw] += v * w[((c * cc.o + o) * cc.k + i) * cc.k + j]
        } } }
    } } } }
    if cc.bias {
        for n in 0..<cc.n { for o in 0..<cc.o { for q in 0..<(oh * ow) { y[(n * cc.o + o) * oh * ow + q] += b[o] } } }
    }
    return y
}

/// Double batch normalisation in training mode over NCHW rows (`spatial` values per channel
/// and sample): batch mean and biased variance per channel, `γ (x - μ) / sqrt(σ² + eps) + β`.
func refBatchNormTrain(_ x: [Double], gamma: [Double], beta: [Double], n: Int, c: Int, spatial: Int,
                       eps: Double = 1e-5) -> (y: [Double], mean: [Double], variance: [Double]) {
    var y = x, means = [Double](repeating: 0, count: c), vars = means
    let m = Double(n * spatial)
    for ch in 0..<c {
        var idx: [Int] = []
        for s in 0..<n { for q in 0..<spatial { idx.append((s * c + ch) * spatial + q) } }
        let mu = idx.reduce(0) { $0 + x[$1] } / m
        let v = idx.reduce(0) { $0 + (x[$1] - mu) * (x[$1] - mu) } / m
        for i in idx { y[i] = gamma[ch] * (x[i] - mu) / (v + eps).squareRoot() + beta[ch] }
        means[ch] = mu; vars[ch] = v
    }
    return (y, means, vars)
}

/// Central differences at every `stride`-th element of `v` (the others are left 0 and skipped
/// by `assertCloseAt`), to keep the big 28x28 checks fast in debug builds.
func numericalGradient(_ v: [Double], every stride: Int, h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
    var x = v
    var g = [Double](repeating: 0, count: v.count)
    for i in Swift.stride(from: 0, to: v.count, by: stride) {
        let old = x[i]
        x[i] = old + h; let fp = f(x)
        x[i] = old - h; let fm = f(x)
        x[i] = old
        g[i] = (fp - fm) / (2 * h)
    }
    return g
}

/// `assertClose` restricted to every `stride`-th element.
func assertCloseAt(every stride: Int, _ a: [Double], _ b: [Double], atol: Double, rtol: Double, _ what: String,
                   file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(what): counts differ", file: file, line: line)
    let picked = Array(Swift.stride(from: 0, to: Swift.min(a.count, b.count), by: stride))
    assertClose(picked.map { a[$0] }, picked.map { b[$0] }, atol: atol, rtol: rtol, what, file: file, line: line)
}

/// `Σ y ⊙ r`: a loss whose gradient with respect to `y` is `r`.
func dot(_ y: [Double], _ r: [Double]) -> Double { zip(y, r).reduce(0) { $0 + $1.0 * $1.1 } }
