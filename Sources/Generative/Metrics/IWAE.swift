import Foundation
import Linalg
import NN

/// The importance-weighted bound of a VAE on a set of images, in nats per image.
public struct IWAEResult: Sendable, Equatable, Codable {
    /// Importance samples per image.
    public let k: Int
    /// Images evaluated.
    public let images: Int
    /// Mean over images of `-L_k = -(logsumexp_i log w_i - log k)`: an upper bound on the
    /// negative log-likelihood `-log p(x)` that tightens as `k` grows (Burda et al. 2016, thm 1).
    public let negativeBound: Double
    /// Standard error of `negativeBound` over images.
    public let standardError: Double
    /// The negative ELBO estimated on the same draws: analytic `KL(q(z|x) || p(z))` plus the
    /// reconstruction term `-log p(x|z)` averaged over the `k` samples. `negativeBound` never
    /// exceeds it by more than Monte Carlo error (equal in expectation at `k = 1`).
    public let negativeELBO: Double
}

extension VAE {
    /// The importance-weighted autoencoder bound (Burda, Grosse & Salakhutdinov 2016, eq. 8),
    /// `L_k(x) = log (1/k) Σ_i p(x|z_i) p(z_i) / q(z_i|x)`, `z_i ~ q(z|x)` i.i.d., for each row
    /// of `x` (`n x dataDim`, values in [0, 1]), averaged over rows.
    ///
    /// `log p(x|z)` is the decoder's Bernoulli log-likelihood on the given (grey) values,
    /// `-Σ_pixels BCEWithLogits(logits, x)`: the same term as the training ELBO, so the two are
    /// comparable. The log weights are combined by a running log-sum-exp in Double. Work is done
    /// in chunks of `chunk` (image, sample) rows, so memory stays `O(chunk x dataDim)` for any k.
    /// - Parameters: `labels`: the rows' classes for a conditional VAE (the bound is then on
    ///   `-log p(x | y)`), nil otherwise; `k >= 1`; `rng` draws the `eps` of `z = mu + exp(logvar / 2) eps`.
    /// - Precondition: `x.cols == dataDim`, `x.rows >= 1`, `k >= 1`, `chunk >= 1`.
    public func importanceWeightedBound(_ x: Matrix, labels: [Int32]? = nil, k: Int, chunk: Int = 1024,
                                        rng: inout Xoshiro256) -> IWAEResult {
        let n = x.rows, l = latentDim
        precondition(x.cols == dataDim && n >= 1 && k >= 1 && chunk >= 1,
                     "importanceWeightedBound: x is \(x.rows)x\(x.cols) (dataDim \(dataDim)), k \(k), chunk \(chunk)")
        let (mu, logvar) = encode(x, labels: labels)
        let prior = labels.flatMap { priorParameters($0) }
        var acc = IWAEAccumulator(images: n, k: k)
        let rows = Swift.max(1, Swift.min(chunk, n * k))
        var eps = Matrix(rows: rows, cols: l)
        var z = Matrix(rows: rows, cols: l)
        var logPrior = [Double](repeating: 0, count: rows)   // log p(z) - log q(z|x), per row
        var pair = 0
        while pair < n * k {
            let r = Swift.min(rows, n * k - pair)
            eps.resize(rows: r, cols: l)
            z.resize(rows: r, cols: l)
            eps.withUnsafeMutableBufferPointer { rng.fillNormal($0, mean: 0, std: 1) }
            IWAEAccumulator.sampleLatents(mu: mu, logvar: logvar, eps: eps, firstPair: pair, k: k,
                                          prior: prior, into: &z, logPrior: &logPrior)
            if let labels { decoderLabels!.setLabels(count: r) { labels[(pair + $0) / k] } }
            acc.add(logits: decoder.forward(z, training: false), x: x, firstPair: pair, logPrior: logPrior,
                    gaussian: likelihood == .gaussian)
            pair += r
        }
        return acc.result(kl: IWAEAccumulator.analyticKL(mu: mu, logvar: logvar, prior: prior))
    }
}

/// The running parts of the IWAE bound: a log-sum-exp per image and the reconstruction sum.
struct IWAEAccumulator {
    let images: Int, k: Int
    /// Running log-sum-exp per image: max and sum of exp(log w - max).
    var runMax: [Double], runSum: [Double]
    var reconstruction = 0.0

    init(images: Int, k: Int) {
        self.images = images
        self.k = k
        runMax = [Double](repeating: -.infinity, count: images)
        runSum = [Double](repeating: 0, count: images)
    }

    /// `z` for (image, sample) pairs `firstPair ..< firstPair + eps.rows` (image = pair / k) by
    /// the VAE's reparameterisation, and each row's `log p(z) - log N(z; mu, sigma²)`, with
    /// `p = N(0, I)` or the image's learned prior `N(prior.mu, exp(prior.logvar))`.
    static func sampleLatents(mu: Matrix, logvar: Matrix, eps: Matrix, firstPair: Int, k: Int,
                              prior: (mu: Matrix, logvar: Matrix)?, into z: inout Matrix, logPrior: inout [Double]) {
        let l = mu.cols, r = eps.rows
        mu.withUnsafeBufferPointer { pm in
            logvar.withUnsafeBufferPointer { pl in
                eps.withUnsafeBufferPointer { pe in
                    z.withUnsafeMutableBufferPointer { pz in
                        for row in 0..<r {
                            let img = (firstPair + row) / k
                            var s = 0.0
                            for j in 0..<l {
                                let lv = pl[img &* l &+ j], e = pe[row &* l &+ j]
                                let zz = VAE.reparameterize(mu: pm[img &* l &+ j], logvar: lv, eps: e).z
                                pz[row &* l &+ j] = zz
                                // log p(z) - log N(z; mu, sigma²); the 2π terms cancel.
                                s += 0.5 * (Double(e * e) + Double(lv))
                                if let prior {
                                    let pm = Double(prior.mu[img, j]), pl = Double(prior.logvar[img, j])
                                    let d = Double(zz) - pm
                                    s -= 0.5 * (d * d * Foundation.exp(-pl) + pl)
                                } else {
                                    s -= 0.5 * Double(zz * zz)
                                }
                            }
                            logPrior[row] = s
                        }
                    }
                }
            }
        }
    }

    /// Adds each row's log weight `log p(x|z) + logPrior` (Bernoulli log-likelihood of the
    /// image's grey values under the logits, summed in blocks of 256 pixels; or with
    /// `gaussian` the Gaussian one of `[mean | logvar]` rows, `Loss.gaussianNLL`'s) to its image.
    mutating func add(logits: Matrix, x: Matrix, firstPair: Int, logPrior: [Double], gaussian: Bool = false) {
        let d = x.cols
        logits.withUnsafeBufferPointer { pl in
            x.withUnsafeBufferPointer { px in
                for row in 0..<logits.rows {
                    let img = (firstPair + row) / k
                    let lr = pl.baseAddress! + row &* logits.cols, xr = px.baseAddress! + img &* d
                    var bce: Float = 0, sum = 0.0
                    for p in 0..<d {
                        if gaussian {
                            let res = Double(xr[p] - lr[p]), lv = Double(lr[d &+ p])
                            sum += 0.5 * (Foundation.log(2 * Double.pi) + lv + res * res * Foundation.exp(-lv))
                            continue
                        }
                        let li = lr[p]
                        bce += (li > 0 ? li : 0) - li * xr[p] + Foundation.log1p(Foundation.exp(-Swift.abs(li)))
                        if p & 255 == 255 { sum += Double(bce); bce = 0 }
                    }
                    sum += Double(bce)
                    reconstruction += sum
                    let logW = -sum + logPrior[row]
                    if logW > runMax[img] {
                        runSum[img] = runSum[img] * Foundation.exp(runMax[img] - logW) + 1
                        runMax[img] = logW
                    } else {
                        runSum[img] += Foundation.exp(logW - runMax[img])
                    }
                }
            }
        }
    }

    /// Analytic `KL(q(z|x) || p(z))` summed over images, as in training (Kingma & Welling
    /// 2014, appendix B), in Double.
    static func analyticKL(mu: Matrix, logvar: Matrix, prior: (mu: Matrix, logvar: Matrix)? = nil) -> Double {
        var kl = 0.0
        mu.withUnsafeBufferPointer { pm in
            logvar.withUnsafeBufferPointer { pl in
                for i in 0..<pm.count {
                    let m = Double(pm[i]), v = Double(pl[i])
                    guard let prior else { kl += -0.5 * (1 + v - m * m - Foundation.exp(v)); continue }
                    let r = i / mu.cols, c = i % mu.cols
                    let d = m - Double(prior.mu[r, c]), lp = Double(prior.logvar[r, c])
                    kl += 0.5 * (lp - v + (Foundation.exp(v) + d * d) * Foundation.exp(-lp) - 1)
                }
            }
        }
        return kl
    }

    /// The mean bound over images, its standard error, and the negative ELBO on the same draws.
    func result(kl: Double) -> IWAEResult {
        let n = images
        let logK = Foundation.log(Double(k))
        var sum = 0.0, sumSq = 0.0
        for i in 0..<n {
            let b = -(runMax[i] + Foundation.log(runSum[i]) - logK)
            sum += b; sumSq += b * b
        }
        let mean = sum / Double(n)
        let variance = n > 1 ? Swift.max(sumSq / Double(n) - mean * mean, 0) * Double(n) / Double(n - 1) : 0
        return IWAEResult(k: k, images: n, negativeBound: mean,
                          standardError: (variance / Double(n)).squareRoot(),
                          negativeELBO: reconstruction / Double(n * k) + kl / Double(n))
    }
}
