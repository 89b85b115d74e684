import Foundation
import Linalg
import NN

/// Trains a `VAE` one mini-batch at a time with Adam, minimising the negative ELBO per sample.
///
/// One `step(batch:)`: encode, reparameterise with fresh `eps ~ N(0, I)`, decode, loss =
/// BCE-with-logits summed over pixels + Gaussian KL summed over latent dimensions, both
/// averaged over the batch; backward through decoder, reparameterisation, both heads and the
/// encoder; one Adam update. All buffers are allocated on the first step; later steps at the
/// same batch size perform no heap allocation.
public final class VAETrainer {
    public let model: VAE
    public let optimizer: any Optimizer
    /// Generator of the reparameterisation noise; part of the training state.
    public var rng: Xoshiro256
    /// Completed steps.
    public private(set) var step: Int = 0

    private var eps = Matrix.empty
    private var std = Matrix.empty
    private var z = Matrix.empty
    private var gradLogits = Matrix.empty
    private var gradMu = Matrix.empty
    private var gradLogvar = Matrix.empty
    private var gradHidden = Matrix.empty

    public init(model: VAE, rng: Xoshiro256) {
        self.model = model
        self.rng = rng
        let c = model.config
        optimizer = Adam(parameters: model.parameters, learningRate: c.learningRate,
                         beta1: c.beta1, beta2: c.beta2)
    }

    /// Restores the step counter and noise generator (when resuming from a checkpoint).
    public func restore(step: Int, rng: Xoshiro256) {
        self.step = step
        self.rng = rng
    }

    /// One training step on `batch` (`B x dataDim`, values in [0, 1]).
    /// - Returns: this batch's per-sample losses in nats (before the update).
    /// - Throws: `NonFiniteError` when the loss or a parameter gradient becomes NaN or inf
    ///   (named like `decoder 2.weight gradient`); no update is applied then.
    @discardableResult
    public func step(batch x: Matrix) throws -> VAELosses {
        precondition(x.cols == model.config.dataDim,
                     "VAETrainer.step: batch is \(x.rows)x\(x.cols), expected B x \(model.config.dataDim)")
        step += 1
        let losses = forwardLoss(x, training: true, rng: &rng)
        guard losses.negativeELBO.isFinite else {
            throw NonFiniteError(step: step, location: losses.reconstruction.isFinite ? "KL term" : "reconstruction loss")
        }
        backward()
        // A finite loss can still give an inf/NaN gradient: never apply it.
        // (No array literals here: this runs every step and must not allocate.)
        if let name = model.decoder.firstNonFiniteGradient() {
            throw NonFiniteError(step: step, location: "decoder \(name) gradient")
        }
        try checkHead(model.muHead, "mu head")
        try checkHead(model.logvarHead, "logvar head")
        if let name = model.encoder.firstNonFiniteGradient() {
            throw NonFiniteError(step: step, location: "encoder \(name) gradient")
        }
        optimizer.step()
        return losses
    }

    private func checkHead(_ head: Dense, _ part: String) throws {
        if !head.weight.gradient.allFinite() { throw NonFiniteError(step: step, location: "\(part) weight gradient") }
        if !head.bias.gradient.allFinite() { throw NonFiniteError(step: step, location: "\(part) bias gradient") }
    }

    /// The per-sample losses of `x` with one `eps` draw from `rng`, without updating anything
    /// (the stochastic ELBO estimate PyTorch's example reports on the test set).
    public func evaluate(_ x: Matrix, rng evalRNG: inout Xoshiro256) -> VAELosses {
        forwardLoss(x, training: false, rng: &evalRNG)
    }

    private func forwardLoss(_ x: Matrix, training: Bool, rng: inout Xoshiro256) -> VAELosses {
        let m = model
        let b = x.rows, latent = m.config.latentDim
        let h = m.encoder.forward(x, training: training)
        let mu = m.muHead.forward(h, training: training)
        let logvar = m.logvarHead.forward(h, training: training)

        // z = mu + exp(0.5 logvar) * eps (Kingma & Welling 2014, eq. 10 with L = 1).
        eps.resize(rows: b, cols: latent)
        std.resize(rows: b, cols: latent)
        z.resize(rows: b, cols: latent)
        eps.withUnsafeMutableBufferPointer { rng.fillNormal($0) }
        let n = b * latent
        mu.withUnsafeBufferPointer { pm in
            logvar.withUnsafeBufferPointer { pl in
                eps.withUnsafeBufferPointer { pe in
                    std.withUnsafeMutableBufferPointer { ps in
                        z.withUnsafeMutableBufferPointer { pz in
                            for i in 0..<n {
                                let s = Foundation.exp(0.5 * pl[i])
                                ps[i] = s
                                pz[i] = pm[i] + s * pe[i]
                            }
                        }
                    }
                }
            }
        }
        let logits = m.decoder.forward(z, training: training)
        let rec = Loss.binaryCrossEntropyWithLogits(
            logits: logits, targets: x, reduction: .batchMean, gradient: &gradLogits)
        let kl = Loss.gaussianKL(mu: mu, logvar: logvar, reduction: .batchMean,
                                 gradientMu: &gradMu, gradientLogvar: &gradLogvar)
        return VAELosses(reconstruction: rec, kl: kl)
    }

    private func backward() {
        let m = model
        m.encoder.zeroGradients()
        m.decoder.zeroGradients()
        m.muHead.zeroGradients()
        m.logvarHead.zeroGradients()
        let gradZ = m.decoder.backward(gradLogits)
        // dz/dmu = 1; dz/dlogvar = 0.5 * exp(0.5 logvar) * eps. Add the reconstruction path's
        // gradient to the KL gradients already in gradMu / gradLogvar.
        let n = gradZ.count
        gradZ.withUnsafeBufferPointer { gz in
            eps.withUnsafeBufferPointer { pe in
                std.withUnsafeBufferPointer { ps in
                    gradMu.withUnsafeMutableBufferPointer { gm in
                        gradLogvar.withUnsafeMutableBufferPointer { gl in
                            for i in 0..<n {
                                gm[i] += gz[i]
                                gl[i] += gz[i] * 0.5 * ps[i] * pe[i]
                            }
                        }
                    }
                }
            }
        }
        let gh1 = m.muHead.backward(gradMu)
        let gh2 = m.logvarHead.backward(gradLogvar)
        Matrix.add(gh1, gh2, into: &gradHidden)
        _ = m.encoder.backward(gradHidden)
    }
}
