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
        let s = spatial
        for c in 0..<channels {
            var total = 0.0
            for n in 0..<batch { total += sumOfElements(x + segment(n, c), count: s) }
            let mu = Float(total / count)
            var squares = 0.0
            for n in 0..<batch {
                let p = x + segment(n, c)
                var acc: Float = 0
                for q in 0..<s { let d = p[q] - mu; acc += d * d }
                squares += Double(acc)
            }
            mean[c] = mu
            variance[c] = Float(squares / count)
        }
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

    /// `x̂ = (x - μ) invStd` into `normalized` and `γ x̂ + β` into `output` (both resized by the
    /// caller to `x`'s shape).
    func normalize(_ x: UnsafePointer<Float>, mean: UnsafePointer<Float>, invStd: UnsafePointer<Float>,
                   gamma: Matrix, beta: Matrix, normalized: inout Matrix, output: inout Matrix) {
        let s = spatial
        gamma.withUnsafeBufferPointer { g in
            beta.withUnsafeBufferPointer { b in
                normalized.withUnsafeMutableBufferPointer { xh in
                    output.withUnsafeMutableBufferPointer { y in
                        for n in 0..<batch {
                            for c in 0..<channels {
                                let o = segment(n, c), mu = mean[c], inv = invStd[c], gc = g[c], bc = b[c]
                                let src = x + o, dn = xh.baseAddress! + o, dy = y.baseAddress! + o
                                for q in 0..<s {
                                    let v = (src[q] - mu) * inv
                                    dn[q] = v
                                    dy[q] = gc * v + bc
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `Σ dY` and `Σ dY x̂` per channel.
    func gradientSums(_ dy: UnsafePointer<Float>, normalized xh: UnsafePointer<Float>,
                      sumDy: UnsafeMutablePointer<Float>, sumDyXhat: UnsafeMutablePointer<Float>) {
        let s = spatial
        for c in 0..<channels {
            var a = 0.0, b = 0.0
            for n in 0..<batch {
                let o = segment(n, c)
                a += sumOfElements(dy + o, count: s)
                var acc: Float = 0
                for q in 0..<s { acc += dy[o &+ q] * xh[o &+ q] }
                b += Double(acc)
            }
            sumDy[c] = Float(a)
            sumDyXhat[c] = Float(b)
        }
    }

    /// `dX = γ invStd (dY - Σ dY / M - x̂ Σ(dY x̂) / M)` into `dx` (resized by the caller).
    func inputGradient(_ dy: Matrix, normalized: Matrix, gamma: Matrix, invStd: Matrix,
                       sumDy: Matrix, sumDyXhat: Matrix, into dx: inout Matrix) {
        let s = spatial, invM = Float(1 / count)
        dy.withUnsafeBufferPointer { g in
            normalized.withUnsafeBufferPointer { xh in
                dx.withUnsafeMutableBufferPointer { out in
                    for c in 0..<channels {
                        let scale = gamma[0, c] * invStd[0, c]
                        let meanDy = sumDy[0, c] * invM, meanDyX = sumDyXhat[0, c] * invM
                        for n in 0..<batch {
                            let o = segment(n, c)
                            let gp = g.baseAddress! + o, xp = xh.baseAddress! + o, dp = out.baseAddress! + o
                            for q in 0..<s { dp[q] = scale * (gp[q] - meanDy - xp[q] * meanDyX) }
                        }
                    }
                }
            }
        }
    }
}
