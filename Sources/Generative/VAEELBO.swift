import Foundation
import Linalg
import NN

/// Buffers of the VAE's ELBO forward and backward pass, kept between the two and reused.
final class ELBOWork {
    var eps = Matrix.empty
    var std = Matrix.empty
    var z = Matrix.empty
    var gradLogits = Matrix.empty
    var gradMu = Matrix.empty
    var gradLogvar = Matrix.empty
    var gradHidden = Matrix.empty
    /// A learned prior's input (`B x 0`: the label is all it sees) and the KL's gradients.
    var noInput = Matrix.empty
    var kl = GaussianKLGradients()
}

extension VAE {
    /// The reparameterisation `z = mu + exp(0.5 * logvar) * eps` of one latent value (Kingma &
    /// Welling 2014, eq. 10 with L = 1); also returns the standard deviation `exp(0.5 * logvar)`.
    @inlinable
    public static func reparameterize(mu: Float, logvar: Float, eps: Float) -> (z: Float, std: Float) {
        let s = Foundation.exp(0.5 * logvar)
        return (mu + s * eps, s)
    }

    /// The per-sample negative ELBO of `x` (`B x dataDim`, values in [0, 1]) with one `eps` draw
    /// per sample from `rng` (Kingma & Welling 2014, eq. 10 with L = 1): reconstruction =
    /// BCE-with-logits summed over pixels (Bernoulli NLL), KL = `KL(N(mu, exp(logvar)) || N(0, I))`
    /// summed over latent dimensions (appendix B), both averaged over the batch, in nats.
    /// With `training`, keeps what `backwardNegativeELBO()` needs. No allocation once sized.
    /// A conditional VAE takes the rows' `labels` (the ELBO of `log p(x | y)`, Sohn et al.
    /// 2015, eq. 4); see `setLabels` for the precondition.
    /// In a data-parallel run `x` is the rows `shard` of the global batch, and `eps` is drawn
    /// for the global batch, this process keeping its rows (`Xoshiro256.fillNormal(_:shard:cols:)`).
    public func negativeELBO(_ x: Matrix, labels: [Int32]? = nil, training: Bool, rng: inout Xoshiro256,
                             shard: RowShard? = nil) -> VAELosses {
        precondition(x.cols == dataDim, "VAE.negativeELBO: x is \(x.rows)x\(x.cols), expected B x \(dataDim)")
        setLabels(labels)
        let w = work
        let b = x.rows, latent = latentDim
        let h = encoder.forward(x, training: training)
        let mu = muHead.forward(h, training: training)
        let logvar = logvarHead.forward(h, training: training)
        w.eps.resize(rows: b, cols: latent)
        w.std.resize(rows: b, cols: latent)
        w.z.resize(rows: b, cols: latent)
        w.eps.withUnsafeMutableBufferPointer { e in
            if let shard { rng.fillNormal(e, shard: shard, cols: latent) } else { rng.fillNormal(e) }
        }
        let n = b * latent
        mu.withUnsafeBufferPointer { pm in
            logvar.withUnsafeBufferPointer { pl in
                w.eps.withUnsafeBufferPointer { pe in
                    w.std.withUnsafeMutableBufferPointer { ps in
                        w.z.withUnsafeMutableBufferPointer { pz in
                            for i in 0..<n {
                                (pz[i], ps[i]) = VAE.reparameterize(mu: pm[i], logvar: pl[i], eps: pe[i])
                            }
                        }
                    }
                }
            }
        }
        let logits = decoder.forward(w.z, training: training)
        let rec = likelihood == .bernoulli
            ? Loss.binaryCrossEntropyWithLogits(logits: logits, targets: x, reduction: .batchMean, gradient: &w.gradLogits)
            : Loss.gaussianNLL(output: logits, targets: x, reduction: .batchMean, gradient: &w.gradLogits)
        guard let priorMu, let priorLogvar else {
            let kl = Loss.gaussianKL(mu: mu, logvar: logvar, reduction: .batchMean,
                                     gradientMu: &w.gradMu, gradientLogvar: &w.gradLogvar)
            return VAELosses(reconstruction: rec, kl: kl)
        }
        // KL(q(z|x,y) || p(z|y)) against the learned prior; its mu/logvar gradients become the
        // ones backward adds the reconstruction path to (swapped: no copy, no allocation).
        w.noInput.resize(rows: b, cols: 0)
        let kl = Loss.gaussianKL(mu: mu, logvar: logvar, priorMu: priorMu.forward(w.noInput, training: training),
                                 priorLogvar: priorLogvar.forward(w.noInput, training: training),
                                 reduction: .batchMean, gradients: &w.kl)
        swap(&w.gradMu, &w.kl.mu)
        swap(&w.gradLogvar, &w.kl.logvar)
        return VAELosses(reconstruction: rec, kl: kl)
    }

    /// Scales the KL term's gradients of the last training `negativeELBO` (with respect to mu,
    /// logvar and a learned prior) by `beta`, before `backwardNegativeELBO()` (KL warm-up).
    public func scaleKLGradients(by beta: Float) {
        let w = work
        w.gradMu.scale(by: beta)
        w.gradLogvar.scale(by: beta)
        if priorMu != nil {
            w.kl.priorMu.scale(by: beta)
            w.kl.priorLogvar.scale(by: beta)
        }
    }

    /// Zeroes the gradients, then backpropagates the last training `negativeELBO` through the
    /// decoder, the reparameterisation, both heads and the encoder, accumulating every
    /// parameter's gradient. - Precondition: follows `negativeELBO(_:training: true, rng:)`.
    public func backwardNegativeELBO() {
        let w = work
        parameterGroup.zeroGradients()
        let gradZ = decoder.backward(w.gradLogits)
        // dz/dmu = 1; dz/dlogvar = 0.5 * exp(0.5 logvar) * eps. Add the reconstruction path's
        // gradient to the KL gradients already in gradMu / gradLogvar.
        let n = gradZ.count
        gradZ.withUnsafeBufferPointer { gz in
            w.eps.withUnsafeBufferPointer { pe in
                w.std.withUnsafeBufferPointer { ps in
                    w.gradMu.withUnsafeMutableBufferPointer { gm in
                        w.gradLogvar.withUnsafeMutableBufferPointer { gl in
                            for i in 0..<n {
                                gm[i] += gz[i]
                                gl[i] += gz[i] * 0.5 * ps[i] * pe[i]
                            }
                        }
                    }
                }
            }
        }
        let gh1 = muHead.backward(w.gradMu)
        let gh2 = logvarHead.backward(w.gradLogvar)
        Matrix.add(gh1, gh2, into: &w.gradHidden)
        _ = encoder.backward(w.gradHidden)
        _ = priorMu?.backward(w.kl.priorMu)
        _ = priorLogvar?.backward(w.kl.priorLogvar)
    }
}
