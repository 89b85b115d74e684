import CVectorMath
import Foundation
import Linalg

/// How per-element losses are combined into one number (the gradient is scaled the same way).
public enum Reduction: Sendable {
    /// Mean over all elements (`rows * cols`), PyTorch's `reduction='mean'`. For
    /// `softmaxCrossEntropy` the elements are the per-sample losses, so this divides by `rows`.
    case mean
    /// Per-sample sums (over columns) averaged over rows: sum / `rows`. The usual VAE convention.
    case batchMean
    /// Sum over all elements, PyTorch's `reduction='sum'`.
    case sum

    /// The divisor for `rows x cols` element losses (1 for an empty matrix, avoiding 0/0).
    @inline(__always)
    func divisor(rows: Int, cols: Int) -> Double {
        switch self {
        case .mean: return Double(Swift.max(rows &* cols, 1))
        case .batchMean: return Double(Swift.max(rows, 1))
        case .sum: return 1
        }
    }
}

/// Loss functions. Each returns the reduced loss (Float partial sums over blocks of 256
/// elements, added up in Double, as `Matrix.sum`) and overwrites
/// `gradient` with dLoss/dInput under the same reduction; `gradient` is resized to the input's
/// shape without allocation when its storage is unshared and large enough.
/// Shape mismatches are programmer errors (precondition).
public enum Loss {
    @inline(__always)
    static func checkShapes(_ a: Matrix, _ b: Matrix, _ name: String) {
        precondition(a.rows == b.rows && a.cols == b.cols,
                     "\(name): input is \(a.rows)x\(a.cols) but targets are \(b.rows)x\(b.cols)")
    }

    /// Binary cross-entropy on probabilities, as PyTorch's `BCELoss`:
    /// `l = -(y log p + (1 - y) log(1 - p))` with each log clamped at `-100`, so `p = 0` or `1`
    /// gives a finite loss and an exact 0 for a perfect prediction.
    /// Gradient, as PyTorch: `(p - y) / max(p (1 - p), 1e-12)` times the reduction's scale.
    /// - Parameters: `predictions` and `targets` are `batch x features`, predictions in [0, 1].
    public static func binaryCrossEntropy(predictions: Matrix, targets: Matrix, reduction: Reduction,
                                          gradient: inout Matrix) -> Float {
        elementwise(predictions, targets, reduction, &gradient, "binaryCrossEntropy") { p, y in
            var lp = Foundation.log(p)
            lp = lp < -100 ? -100 : lp           // NaN passes through
            var lq = Foundation.log(1 - p)
            lq = lq < -100 ? -100 : lq
            let d = p * (1 - p)
            return (-(y * lp + (1 - y) * lq), (p - y) / (d < 1e-12 ? 1e-12 : d))
        }
    }

    /// Binary cross-entropy on logits, as PyTorch's `BCEWithLogitsLoss`:
    /// `l = max(x, 0) - x y + log(1 + exp(-|x|))` (no overflow for any finite `x`); gradient
    /// `sigmoid(x) - y` times the reduction's scale.
    /// - Parameters: `logits` and `targets` are `batch x features`.
    public static func binaryCrossEntropyWithLogits(logits: Matrix, targets: Matrix, reduction: Reduction,
                                                    gradient: inout Matrix) -> Float {
        // Its own loop rather than `elementwise`: it is the VAE's hottest element-wise pass, and
        // the tuple-returning closure measured ~8 % slower per VAE step.
        checkShapes(logits, targets, "binaryCrossEntropyWithLogits")
        let n = logits.count
        let scale = 1 / reduction.divisor(rows: logits.rows, cols: logits.cols)
        let fscale = Float(scale)
        gradient.resize(rows: logits.rows, cols: logits.cols)
        var total = 0.0
        logits.withUnsafeBufferPointer { px in
            targets.withUnsafeBufferPointer { pt in
                gradient.withUnsafeMutableBufferPointer { pg in
                    guard let x = px.baseAddress, let t = pt.baseAddress, let g = pg.baseAddress else { return }
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 256) { tmp in
                        guard let l = tmp.baseAddress else { return }
                        var start = 0
                        while start < n {
                            let count = Swift.min(256, n &- start)
                            // AVX-512 CPUs: `bceLogitsBlock` 16 lanes wide (its exp and log1p bound the pass).
                            if ElementwiseKernels.isAvailable {
                                ew_bce_logits(x + start, t + start, g + start, l, count, fscale)
                            } else {
                                bceLogitsBlock(x + start, t + start, g + start, l, count, fscale)
                            }
                            total += sumOfElements(UnsafePointer(l), count: count)
                            start &+= count
                        }
                    }
                }
            }
        }
        return Float(total * scale)
    }

    /// `count` elements of BCE with logits: `loss[i] = max(x, 0) - x t + log1p(e^-|x|)`,
    /// `grad[i] = scale (sigmoid(x) - t)`; any CPU.
    static func bceLogitsBlock(_ x: UnsafePointer<Float>, _ t: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>,
                               _ l: UnsafeMutablePointer<Float>, _ count: Int, _ scale: Float) {
        for i in 0..<count {
            let xi = x[i], yi = t[i]
            // e = exp(-|x|) is shared by the loss and the sigmoid.
            let e = fastExp(-Swift.abs(xi))
            l[i] = (xi > 0 ? xi : 0) - xi * yi + fastLog1p(e)
            let s = 1 / (1 + e)
            g[i] = scale * ((xi >= 0 ? s : e * s) - yi)
        }
    }

    /// Squared error `(p - y)²`, as PyTorch's `MSELoss`; gradient `2 (p - y)` times the
    /// reduction's scale.
    public static func meanSquaredError(predictions: Matrix, targets: Matrix, reduction: Reduction,
                                        gradient: inout Matrix) -> Float {
        elementwise(predictions, targets, reduction, &gradient, "meanSquaredError") { p, y in
            let d = p - y
            return (d * d, 2 * d)
        }
    }

    /// The shared loop of the element-wise losses: `f(input, target)` gives an element's loss
    /// and its derivative. The gradient (scaled by the reduction) overwrites `gradient`; the
    /// element losses go to a 1 KiB stack block (small enough to stay on the stack) summed with
    /// SIMD lanes, since a running Float sum would keep the loop scalar. No heap allocation.
    @inline(__always)
    static func elementwise(_ input: Matrix, _ targets: Matrix, _ reduction: Reduction,
                            _ gradient: inout Matrix, _ name: String,
                            _ f: (Float, Float) -> (loss: Float, derivative: Float)) -> Float {
        checkShapes(input, targets, name)
        let n = input.count
        let scale = 1 / reduction.divisor(rows: input.rows, cols: input.cols)
        let fscale = Float(scale)
        gradient.resize(rows: input.rows, cols: input.cols)
        var total = 0.0
        input.withUnsafeBufferPointer { px in
            targets.withUnsafeBufferPointer { pt in
                gradient.withUnsafeMutableBufferPointer { pg in
                    guard let x = px.baseAddress, let t = pt.baseAddress, let g = pg.baseAddress else { return }
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 256) { tmp in
                        guard let l = tmp.baseAddress else { return }
                        var start = 0
                        while start < n {
                            let count = Swift.min(256, n &- start)
                            let xb = x + start, tb = t + start, gb = g + start
                            for i in 0..<count {
                                let (loss, d) = f(xb[i], tb[i])
                                l[i] = loss
                                gb[i] = fscale * d
                            }
                            total += sumOfElements(UnsafePointer(l), count: count)
                            start &+= count
                        }
                    }
                }
            }
        }
        return Float(total * scale)
    }

    /// Softmax cross-entropy with integer class labels, as PyTorch's `CrossEntropyLoss`:
    /// per row `l = logsumexp(x) - x[label]` (max-shifted, no overflow); gradient
    /// `softmax(x) - onehot(label)` times the reduction's scale. `.mean` and `.batchMean` both
    /// divide by `rows` (one loss per sample).
    /// - Parameters: `logits` is `batch x classes`; `labels` has `batch` entries in `0..<classes`.
    /// - Precondition: label count and range (programmer errors: validate data when loading it).
    public static func softmaxCrossEntropy(logits: Matrix, labels: UnsafeBufferPointer<Int32>,
                                           reduction: Reduction, gradient: inout Matrix) -> Float {
        let r = logits.rows, c = logits.cols
        precondition(labels.count == r, "softmaxCrossEntropy: \(labels.count) labels for \(r) rows")
        precondition(c > 0 || r == 0, "softmaxCrossEntropy: logits have no columns")
        let scale = reduction == .sum ? 1 : 1 / Double(Swift.max(r, 1))
        let fscale = Float(scale)
        gradient.resize(rows: r, cols: c)
        var total = 0.0
        logits.withUnsafeBufferPointer { px in
            gradient.withUnsafeMutableBufferPointer { pg in
                guard let x = px.baseAddress, let g = pg.baseAddress else { return }
                for i in 0..<r {
                    let label = Int(labels[i])
                    precondition(label >= 0 && label < c,
                                 "softmaxCrossEntropy: label \(label) at row \(i) not in 0..<\(c)")
                    let row = x + i &* c, grow = g + i &* c
                    var m = row[0]
                    for j in 1..<c where row[j] > m || m.isNaN { m = row[j] }
                    var s: Float = 0
                    for j in 0..<c {
                        let e = Foundation.exp(row[j] - m)
                        grow[j] = e
                        s += e
                    }
                    let inv = fscale / s
                    for j in 0..<c { grow[j] *= inv }
                    grow[label] -= fscale
                    total += Double(m) + Foundation.log(Double(s)) - Double(row[label])
                }
            }
        }
        return Float(total * scale)
    }

    /// `softmaxCrossEntropy` with labels in an array.
    public static func softmaxCrossEntropy(logits: Matrix, labels: [Int32], reduction: Reduction,
                                           gradient: inout Matrix) -> Float {
        labels.withUnsafeBufferPointer {
            softmaxCrossEntropy(logits: logits, labels: $0, reduction: reduction, gradient: &gradient)
        }
    }

    /// KL(N(mu, exp(logvar)) || N(0, I)) summed over latent dims
    /// `= -0.5 * sum(1 + logvar - mu² - exp(logvar))` (Kingma & Welling 2014, appendix B).
    /// Gradients: `d/dmu = mu`, `d/dlogvar = 0.5 (exp(logvar) - 1)`, times the reduction's scale
    /// (`.batchMean` is the usual VAE choice: per-sample KL averaged over the batch).
    /// - Parameters: `mu` and `logvar` are `batch x latent`.
    public static func gaussianKL(mu: Matrix, logvar: Matrix, reduction: Reduction,
                                  gradientMu: inout Matrix, gradientLogvar: inout Matrix) -> Float {
        checkShapes(mu, logvar, "gaussianKL")
        let n = mu.count
        let scale = 1 / reduction.divisor(rows: mu.rows, cols: mu.cols)
        let fscale = Float(scale)
        gradientMu.resize(rows: mu.rows, cols: mu.cols)
        gradientLogvar.resize(rows: mu.rows, cols: mu.cols)
        var total = 0.0
        mu.withUnsafeBufferPointer { pm in
            logvar.withUnsafeBufferPointer { pl in
                gradientMu.withUnsafeMutableBufferPointer { gm in
                    gradientLogvar.withUnsafeMutableBufferPointer { gl in
                        guard let m = pm.baseAddress, let l = pl.baseAddress,
                              let dm = gm.baseAddress, let dl = gl.baseAddress else { return }
                        var block: Float = 0
                        for i in 0..<n {
                            let mi = m[i], li = l[i]
                            let e = Foundation.exp(li)
                            block += 1 + li - mi * mi - e
                            dm[i] = fscale * mi
                            dl[i] = fscale * 0.5 * (e - 1)
                            if i & 255 == 255 { total += Double(block); block = 0 }
                        }
                        total += Double(block)
                    }
                }
            }
        }
        return Float(-0.5 * total * scale)
    }
}
