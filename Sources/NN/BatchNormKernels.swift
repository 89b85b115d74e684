import Linalg

/// The per-channel loops of `BatchNorm` over `batch x (channels * spatial)` NCHW rows: channel
/// `c` of sample `n` is the contiguous segment at `(n * channels + c) * spatial`. Sums are
/// taken per segment in Float (`sumOfElements`, or a plain loop) and totalled in Double.
struct BatchNormKernels {
    let batch: Int, channels: Int, spatial: Int

    private var count: Double { Double(batch * spatial) }

    @inline(__always)
    private func segment(_ n: Int, _ c: Int) -> Int { (n &* channels &+ c) &* spatial }

    /// Batch mean and biased variance per channel (two passes: the variance sums `(x - μ)²`).
    func moments(_ x: UnsafePointer<Float>, mean: UnsafeMutablePointer<Float>, variance: UnsafeMutablePointer<Float>) {
        if spatial == 1 { return columnMoments(x, mean: mean, variance: variance) }
        for c in 0..<channels {
            var total = 0.0
            for n in 0..<batch { total += sumOfElements(x + segment(n, c), count: spatial) }
            let mu = Float(total / count)
            var squares = 0.0
            for n in 0..<batch { squares += Self.sumOfSquares(x + segment(n, c), minus: mu, count: spatial) }
            mean[c] = mu
            variance[c] = Float(squares / count)
        }
    }

    /// `moments` for `BatchNorm1d` (a channel is a column): row-wise passes that vectorise
    /// across the features, accumulated in Float over the batch.
    private func columnMoments(_ x: UnsafePointer<Float>, mean: UnsafeMutablePointer<Float>,
                               variance: UnsafeMutablePointer<Float>) {
        let c = channels, inv = Float(1 / count)
        mean.update(repeating: 0, count: c)
        variance.update(repeating: 0, count: c)
        for n in 0..<batch {
            let row = x + n &* c
            for j in 0..<c { mean[j] += row[j] }
        }
        for j in 0..<c { mean[j] *= inv }
        for n in 0..<batch {
            let row = x + n &* c
            for j in 0..<c { let d = row[j] - mean[j]; variance[j] += d * d }
        }
        for j in 0..<c { variance[j] *= inv }
    }

    /// `Σ (p[i] - mu)²` with eight Float lanes, returned in Double.
    static func sumOfSquares(_ p: UnsafePointer<Float>, minus mu: Float, count n: Int) -> Double {
        var acc = SIMD8<Float>(), i = 0
        let raw = UnsafeRawPointer(p), m = SIMD8<Float>(repeating: mu)
        while i &+ 8 <= n {
            let d = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) - m
            acc += d * d
            i &+= 8
        }
        var total = Double(acc.sum())
        while i < n { let d = p[i] - mu; total += Double(d * d); i &+= 1 }
        return total
    }

    /// `Σ a[i] b[i]` with eight Float lanes, returned in Double.
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count n: Int) -> Double {
        var acc = SIMD8<Float>(), i = 0
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        while i &+ 8 <= n {
            acc += ra.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
                * rb.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            i &+= 8
        }
        var total = Double(acc.sum())
        while i < n { total += Double(a[i] * b[i]); i &+= 1 }
        return total
    }

    /// `running = (1 - momentum) running + momentum batch`, the variance made unbiased
    /// (`× M / (M - 1)`), as `torch.nn.functional.batch_norm` in training.
    func updateRunning(mean rm: UnsafeMutablePointer<Float>, variance rv: UnsafeMutablePointer<Float>,
                       batchMean: UnsafePointer<Float>, batchVariance: UnsafePointer<Float>, momentum: Float) {
        let unbias = Float(count / (count - 1))
        for c in 0..<channels {
            rm[c] = (1 - momentum) * rm[c] + momentum * batchMean[c]
            rv[c] = (1 - momentum) * rv[c] + momentum * batchVariance[c] * unbias
        }
    }

    /// `1 / sqrt(variance + eps)` per channel.
    func inverseStd(of variance: UnsafePointer<Float>, eps: Float, into inv: UnsafeMutablePointer<Float>) {
        for c in 0..<channels { inv[c] = 1 / (variance[c] + eps).squareRoot() }
    }

    /// `x̂ = (x - μ) invStd` into `normalized` and `γ x̂ + β` into `output` (`x`'s shape each).
    func normalize(_ x: UnsafePointer<Float>, mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
                   gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
                   normalized xh: UnsafeMutablePointer<Float>, output y: UnsafeMutablePointer<Float>) {
        if spatial == 1 {
            // A channel per column: loops along rows vectorise across the features.
            let c = channels
            for n in 0..<batch {
                let o = n &* c, src = x + o, dn = xh + o, dy = y + o
                for j in 0..<c {
                    let v = (src[j] - mean[j]) * invStd[j]
                    dn[j] = v
                    dy[j] = gamma[j] * v + beta[j]
                }
            }
            return
        }
        for n in 0..<batch {
            for c in 0..<channels {
                let o = segment(n, c), mu = mean[c], inv = invStd[c], gc = gamma[c], bc = beta[c]
                let src = x + o, dn = xh + o, dy = y + o
                for q in 0..<spatial {
                    let v = (src[q] - mu) * inv
                    dn[q] = v
                    dy[q] = gc * v + bc
                }
            }
        }
    }

    /// `Σ dY` and `Σ dY x̂` per channel.
    func gradientSums(_ dy: UnsafePointer<Float>, normalized xh: UnsafePointer<Float>,
                      sumDy: UnsafeMutablePointer<Float>, sumDyXhat: UnsafeMutablePointer<Float>) {
        if spatial == 1 {
            let c = channels
            sumDy.update(repeating: 0, count: c)
            sumDyXhat.update(repeating: 0, count: c)
            for n in 0..<batch {
                let g = dy + n &* c, h = xh + n &* c
                for j in 0..<c { sumDy[j] += g[j]; sumDyXhat[j] += g[j] * h[j] }
            }
            return
        }
        for c in 0..<channels {
            var a = 0.0, b = 0.0
            for n in 0..<batch {
                let o = segment(n, c)
                a += sumOfElements(dy + o, count: spatial)
                b += Self.dot(dy + o, xh + o, count: spatial)
            }
            sumDy[c] = Float(a)
            sumDyXhat[c] = Float(b)
        }
    }

    /// `dX = γ invStd (dY - Σ dY / M - x̂ Σ(dY x̂) / M)` into `dx` (`dY`'s shape).
    func inputGradient(_ dy: UnsafePointer<Float>, normalized xh: UnsafePointer<Float>, gamma: UnsafePointer<Float>,
                       invStd: UnsafePointer<Float>, sumDy: UnsafePointer<Float>, sumDyXhat: UnsafePointer<Float>,
                       into dx: UnsafeMutablePointer<Float>) {
        let invM = Float(1 / count)
        if spatial == 1 {
            let c = channels
            for n in 0..<batch {
                let o = n &* c, g = dy + o, h = xh + o, d = dx + o
                for j in 0..<c { d[j] = gamma[j] * invStd[j] * (g[j] - sumDy[j] * invM - h[j] * (sumDyXhat[j] * invM)) }
            }
            return
        }
        for c in 0..<channels {
            let scale = gamma[c] * invStd[c], meanDy = sumDy[c] * invM, meanDyX = sumDyXhat[c] * invM
            for n in 0..<batch {
                let o = segment(n, c), g = dy + o, h = xh + o, d = dx + o
                for q in 0..<spatial { d[q] = scale * (g[q] - meanDy - h[q] * meanDyX) }
            }
        }
    }
}
