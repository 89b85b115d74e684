import Foundation
import Linalg
import NN

/// Trains a `VAE` one mini-batch at a time, minimising the negative ELBO per sample, each
/// update in three phases: the model's ELBO and its gradients, the gradient hooks
/// (`gradientHooks`: by default the non-finite check; add `.clipNorm(x)`, ...), the optimiser.
/// All buffers are allocated on the first step; later steps at the same batch size perform no
/// heap allocation.
public final class VAETrainer {
    public let model: VAE
    public let optimizer: Optimizer
    /// Run on the model's gradients before each update, in order.
    public var gradientHooks: [GradientHook] = [.nonFiniteCheck]
    /// Generator of the reparameterisation noise; part of the training state.
    public var rng: Xoshiro256
    /// Completed steps.
    public private(set) var step: Int = 0
    /// KL warm-up ("KL cost annealing", Bowman et al. 2016, section 3.1; Sønderby et al. 2016):
    /// for the first `klWarmupSteps` steps the KL term's gradient is scaled by `step / klWarmupSteps`,
    /// so the decoder learns to use z before the KL pulls the posterior to the prior (without it
    /// a Gaussian decoder on 2-D data explains the data by its variance and ignores z). The
    /// reported losses are always the full -ELBO. nil: no warm-up.
    public var klWarmupSteps: Int?

    /// - Parameter optimizer: over `model.parameters`.
    public init(model: VAE, optimizer: Optimizer, rng: Xoshiro256) {
        self.model = model
        self.optimizer = optimizer
        self.rng = rng
    }

    /// Adam with `config`'s learning rate and betas (pytorch/examples' VAE), and its KL warm-up.
    public convenience init(model: VAE, config: VAEConfig, rng: Xoshiro256) {
        self.init(model: model,
                  optimizer: Adam(parameters: model.parameters, learningRate: config.learningRate,
                                  beta1: config.beta1, beta2: config.beta2),
                  rng: rng)
        klWarmupSteps = config.klWarmupSteps
    }

    /// Restores the step counter and noise generator (when resuming from a checkpoint).
    public func restore(step: Int, rng: Xoshiro256) {
        self.step = step
        self.rng = rng
    }

    /// One training step on `batch` (`B x dataDim`, values in [0, 1]), with the rows' `labels`
    /// for a conditional VAE (`model.numClasses`; see `VAE.setLabels`).
    /// - Returns: this batch's per-sample losses in nats (before the update).
    /// - Throws: `NonFiniteError` when the loss or a parameter gradient becomes NaN or inf
    ///   (named like `vae decoder.2.weight gradient`), and whatever a hook throws; no update is
    ///   applied then.
    ///
    /// In a data-parallel run `x` is this process's rows `shard` of the global batch (eps drawn
    /// for the global batch, this process keeping its rows); the losses returned are means over
    /// its rows, and an allreduce hook (`GradientHook.allreduce`) makes the gradients the
    /// global batch's.
    @discardableResult
    public func step(batch x: Matrix, labels: [Int32]? = nil, shard: RowShard? = nil) throws -> VAELosses {
        step += 1
        let losses = model.negativeELBO(x, labels: labels, training: true, rng: &rng, shard: shard)
        try gradientsThenHooks(gradientHooks, on: model.parameterGroup, network: "vae", step: step, shard: shard) {
            guard losses.negativeELBO.isFinite else {
                throw NonFiniteError(step: step, location: losses.reconstruction.isFinite ? "KL term" : "reconstruction loss")
            }
            if let w = klWarmupSteps, step < w { model.scaleKLGradients(by: Float(step) / Float(w)) }
            model.backwardNegativeELBO()
        }
        optimizer.step()
        return losses
    }

    /// Makes this trainer a replica of a data-parallel run over `group`: the allreduce hook
    /// first in `gradientHooks` (`GradientHook.distributing` folds a leading non-finite check
    /// into it), and, when the ranks are threads of this process, the optimiser's update
    /// shared out among them (`shareUpdates(over:)`). Every rank calls it once, before its
    /// first step.
    public func distribute(over group: any ProcessGroup) {
        gradientHooks = GradientHook.distributing(gradientHooks, over: group)
        optimizer.shareUpdates(over: group)
    }

    /// Floating-point operations of the gemms of one step at batch `b` (from the layers):
    /// forward, weight gradients and input gradients of every network, except the data's.
    public func flopsPerStep(batch b: Int) -> Double {
        let m = model
        let forward = m.encoder.forwardFLOPsPerSample + m.muHead.forwardFLOPsPerSample
            + m.logvarHead.forwardFLOPsPerSample + m.decoder.forwardFLOPsPerSample
        let backward = m.encoder.backwardFLOPsPerSample(inputGradient: false, weightGradient: true)
            + [m.muHead, m.logvarHead, m.decoder].reduce(0) {
                $0 + $1.backwardFLOPsPerSample(inputGradient: true, weightGradient: true)
            }
        return Double(b) * Double(forward + backward)
    }

    /// The per-sample losses of `x` with one `eps` draw from `rng`, without updating anything
    /// (the stochastic ELBO estimate PyTorch's example reports on the test set).
    public func evaluate(_ x: Matrix, labels: [Int32]? = nil, rng evalRNG: inout Xoshiro256) -> VAELosses {
        model.negativeELBO(x, labels: labels, training: false, rng: &evalRNG)
    }
}
