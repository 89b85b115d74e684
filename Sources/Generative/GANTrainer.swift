import Foundation
import Linalg
import NN

/// Losses of one GAN training step (nats for the BCE-based losses; critic units for WGAN).
public struct GANStepLosses: Sendable, Equatable {
    /// Discriminator (critic) loss of this step's D update.
    public var discriminator: Float
    /// Generator loss, or NaN when this step made no generator update (WGAN critic-only steps).
    public var generator: Float
    /// Mean discriminator output on real samples: probability D(x) (BCE losses) or critic score.
    public var realScore: Float
    /// Mean discriminator output on generated samples.
    public var fakeScore: Float
    /// The WGAN-GP term `λ E[(‖∇D(x̂)‖ - 1)²]` included in `discriminator` (0 without a
    /// gradient penalty), so `discriminator - gradientPenalty = fakeScore - realScore` for WGAN.
    public var gradientPenalty: Float = 0
}

/// A non-finite loss or gradient: training cannot continue from this state.
public struct NonFiniteError: Error, CustomStringConvertible, Sendable {
    /// The trainer's step count (1-based) when it was detected.
    public let step: Int
    /// Where it appeared first, e.g. `discriminator loss`, `generator 2.weight gradient`.
    public let location: String
    public init(step: Int, location: String) {
        self.step = step
        self.location = location
    }
    public var description: String { "non-finite value (NaN or inf) in \(location) at step \(step)" }
}

/// Trains a `GAN` one mini-batch at a time, each update in three phases: compute the
/// gradients, run the gradient hooks (`gradientHooks`: by default the non-finite check; add
/// `.clipNorm(x)`, an allreduce, ...), apply the optimiser.
///
/// One `step(real:)`: draw `z`, generate `G(z)`, update D on the real batch and the fake batch
/// (stacked into one `2B x dataDim` matrix so each D layer is one gemm; run one after the other
/// when D uses batch statistics, `Layer.usesBatchStatistics`, e.g. BatchNorm), then, every
/// `criticSteps` steps, update G through D with D **frozen** (no D parameter gradient is
/// computed; D's weights cannot change). As in the PyTorch DCGAN example, the G update reuses
/// this step's `G(z)`, so G runs forward once per step. All buffers are allocated on the first
/// step; later steps at the same batch size perform no heap allocation.
public final class GANTrainer {
    public let model: GAN
    public let loss: GANLoss
    /// Discriminator (critic) updates per generator update.
    public let criticSteps: Int
    /// WGAN weight clipping bound c (critic weights clamped to [-c, c] after each update);
    /// nil: no clipping.
    public let weightClip: Float?
    /// λ of the WGAN-GP gradient penalty (see `GradientPenalty`); nil: none.
    public var gradientPenalty: Float? { penalty?.lambda }
    public let discriminatorOptimizer: Optimizer
    public let generatorOptimizer: Optimizer
    /// Run on each network's gradients before each update, in order.
    public var gradientHooks: [GradientHook] = [.nonFiniteCheck]
    /// Noise generator for z; part of the training state (saved in checkpoints).
    public var rng: Xoshiro256
    /// Completed steps (each one D update).
    public private(set) var step: Int = 0

    private var objective: GANObjective
    private var penalty: GradientPenalty?
    /// The discriminator as a network with a double backward (the gradient penalty only).
    private let critic: (any InputGradientDifferentiable)?
    /// D uses batch statistics: its real and fake batches run apart (read once, at init).
    private let separatePasses: Bool
    private var z = Matrix.empty
    private var stacked = Matrix.empty      // [real; fake], 2B x dataDim

    /// - Parameters: the optimisers must be over `model.generator.parameters` and
    ///   `model.discriminator.parameters`; `rng` draws z (seeded by the caller).
    public convenience init(model: GAN, loss: GANLoss, generatorOptimizer: Optimizer,
                            discriminatorOptimizer: Optimizer, criticSteps: Int = 1, weightClip: Float? = nil,
                            rng: Xoshiro256) {
        self.init(model: model, loss: loss, generatorOptimizer: generatorOptimizer,
                  discriminatorOptimizer: discriminatorOptimizer, criticSteps: criticSteps,
                  weightClip: weightClip, penalty: nil, critic: nil, rng: rng)
    }

    /// A WGAN-GP trainer (Gulrajani et al. 2017, Algorithm 1): loss `.wasserstein`, no weight
    /// clipping, the critic loss `E[D(G(z))] - E[D(x)] + λ E[(‖∇_x̂ D(x̂)‖₂ - 1)²]`. The
    /// interpolation weights ε are drawn from `rng` after z, so only this loss's noise stream
    /// differs from the other losses'.
    /// - Throws: `ConfigError` when `lambda` is not positive and finite, or when the
    ///   discriminator has no exact double backward (it must be `InputGradientDifferentiable`:
    ///   `Dense`/`ActivationLayer`/`Sequential` with identity, ReLU or LeakyReLU activations).
    public convenience init(model: GAN, generatorOptimizer: Optimizer, discriminatorOptimizer: Optimizer,
                            criticSteps: Int = 5, gradientPenalty lambda: Float, rng: Xoshiro256) throws {
        guard lambda > 0 && lambda.isFinite else {
            throw ConfigError("gradient penalty must be a positive number, got \(lambda)")
        }
        guard let critic = model.discriminator as? any InputGradientDifferentiable else {
            throw ConfigError("the gradient penalty needs a critic built from Dense, ActivationLayer and "
                + "Sequential layers; \(type(of: model.discriminator)) has no double backward")
        }
        if let problem = critic.secondOrderProblem {
            throw ConfigError("the gradient penalty cannot be differentiated exactly through the critic: "
                + "\(problem) (use identity, ReLU or LeakyReLU activations)")
        }
        self.init(model: model, loss: .wasserstein, generatorOptimizer: generatorOptimizer,
                  discriminatorOptimizer: discriminatorOptimizer, criticSteps: criticSteps, weightClip: nil,
                  penalty: GradientPenalty(lambda: lambda), critic: critic, rng: rng)
    }

    private init(model: GAN, loss: GANLoss, generatorOptimizer: Optimizer, discriminatorOptimizer: Optimizer,
                 criticSteps: Int, weightClip: Float?, penalty: GradientPenalty?,
                 critic: (any InputGradientDifferentiable)?, rng: Xoshiro256) {
        precondition(criticSteps >= 1, "GANTrainer: criticSteps must be at least 1, got \(criticSteps)")
        self.model = model
        self.loss = loss
        self.generatorOptimizer = generatorOptimizer
        self.discriminatorOptimizer = discriminatorOptimizer
        self.criticSteps = criticSteps
        self.weightClip = weightClip
        self.penalty = penalty
        self.critic = critic
        self.rng = rng
        separatePasses = model.discriminator.usesBatchStatistics
        objective = GANObjective(loss: loss)
    }

    /// The trainer of `config`'s training settings: its loss, critic steps, one optimiser per
    /// network built by `config.makeOptimizer`, and for `.wasserstein` the gradient penalty
    /// (`config.gradientPenalty` set) or else weight clipping to `config.clipValue`.
    /// - Throws: `ConfigError` for an invalid `config` (`validate()`), or a gradient penalty
    ///   with a critic that has no exact double backward.
    public convenience init(model: GAN, config: GANConfig, rng: Xoshiro256) throws {
        try config.validate()
        let g = config.makeOptimizer(model.generator.parameters)
        let d = config.makeOptimizer(model.discriminator.parameters)
        if config.loss == .wasserstein, let lambda = config.gradientPenalty {
            try self.init(model: model, generatorOptimizer: g, discriminatorOptimizer: d,
                          criticSteps: config.criticSteps, gradientPenalty: lambda, rng: rng)
        } else {
            self.init(model: model, loss: config.loss, generatorOptimizer: g, discriminatorOptimizer: d,
                      criticSteps: config.criticSteps,
                      weightClip: config.loss == .wasserstein ? config.clipValue : nil, rng: rng)
        }
    }

    /// Restores the step counter (when resuming from a checkpoint).
    public func restore(step: Int, rng: Xoshiro256) {
        self.step = step
        self.rng = rng
    }

    /// One training step on `real` (`B x dataDim`, values in the generator's `outputRange`).
    /// A conditional GAN (`model.numClasses`) takes `labels`, the class of each real row:
    /// G generates this step's fakes for the same classes (so D sees the same class mix in
    /// both batches, as keras-io's conditional GAN example does), and D judges each sample
    /// with its label.
    /// - Precondition: `labels` is given exactly for a conditional model, `B` values in
    ///   `0..<numClasses` (data loading validates them).
    /// - Throws: `NonFiniteError` when a loss or a parameter gradient becomes NaN or inf, and
    ///   whatever a gradient hook throws; the update it would have fed is not applied (the D
    ///   update of this step is kept when only the generator's loss or gradient is
    ///   non-finite). The step counter and noise generator have advanced, so the caller may
    ///   skip the batch and continue.
    ///
    /// In a data-parallel run `real` is this process's rows `shard` of the global batch: z (and
    /// the penalty's ε) are drawn for the global batch and this process keeps its rows, the
    /// losses returned are means over its rows, and an allreduce hook
    /// (`GradientHook.allreduce`) makes the gradients the global batch's.
    @discardableResult
    public func step(real: Matrix, labels: [Int32]? = nil, shard: RowShard? = nil) throws -> GANStepLosses {
        precondition(real.cols == model.dataDim,
                     "GANTrainer.step: real batch is \(real.rows)x\(real.cols), expected B x \(model.dataDim)")
        precondition(shard.map { $0.rows.count == real.rows } ?? true,
                     "GANTrainer.step: \(real.rows) rows for a shard of \(shard?.rows.count ?? 0)")
        precondition((labels == nil) == (model.numClasses == nil) && (labels?.count ?? real.rows) == real.rows,
                     "GANTrainer.step: \(labels?.count.description ?? "no") labels for \(real.rows) rows of a "
                        + (model.numClasses == nil ? "n unconditional" : " conditional") + " GAN")
        let b = real.rows
        step += 1
        let updatesGenerator = step % criticSteps == 0
        prepareBuffers(batch: b)
        if let labels { model.setTrainingLabels(labels, discriminatorRows: separatePasses ? b : 2 * b) }
        // z ~ N(0, I); G(z) kept for the generator update when there is one.
        let latent = model.latentDim
        z.withUnsafeMutableBufferPointer { p in
            if let shard { rng.fillNormal(p, shard: shard, cols: latent) } else { rng.fillNormal(p) }
        }
        let fake = model.generator.forward(z, training: updatesGenerator)
        let (dLoss, realScore, fakeScore, gp) = try gradientsThenHooks(
            gradientHooks, on: model.discriminatorParameters, network: "discriminator", step: step, shard: shard) {
                try discriminatorGradients(real: real, fake: fake, labels: labels, shard: shard)
            }
        applyDiscriminatorUpdate()
        guard updatesGenerator else {
            return GANStepLosses(discriminator: dLoss, generator: .nan,
                                 realScore: realScore, fakeScore: fakeScore, gradientPenalty: gp)
        }
        let gLoss = try gradientsThenHooks(gradientHooks, on: model.generatorParameters, network: "generator",
                                           step: step, shard: shard) { try generatorGradients(fake: fake) }
        generatorOptimizer.step()
        model.generatorAverage?.update(step: generatorOptimizer.stepCount)
        return GANStepLosses(discriminator: dLoss, generator: gLoss,
                             realScore: realScore, fakeScore: fakeScore, gradientPenalty: gp)
    }

    /// Makes this trainer a replica of a data-parallel run over `group`: the allreduce hook
    /// first in `gradientHooks` (both networks' updates; `GradientHook.distributing` folds a
    /// leading non-finite check into it), and, when the ranks are threads of this process,
    /// each optimiser's update shared out among them (`shareUpdates(over:)`). Every rank calls
    /// it once, before its first step.
    public func distribute(over group: any ProcessGroup) {
        gradientHooks = GradientHook.distributing(gradientHooks, over: group)
        generatorOptimizer.shareUpdates(over: group)
        discriminatorOptimizer.shareUpdates(over: group)
    }

    /// Phase 1 of the D update: forward on [real; fake], the loss, and D's gradients; with a
    /// gradient penalty, then its value and gradient (added).
    /// - Returns: D's loss (penalty included), its mean scores on the real and fake rows, and
    ///   the penalty term (0 without one).
    private func discriminatorGradients(real: Matrix, fake: Matrix, labels: [Int32]?,
                                        shard: RowShard?) throws -> (Float, Float, Float, Float) {
        if separatePasses {
            let (dLoss, realScore, fakeScore) = try separateDiscriminatorGradients(real: real, fake: fake)
            return (dLoss, realScore, fakeScore, 0)
        }
        let b = real.rows
        stacked.setRows(real, at: 0)
        stacked.setRows(fake, at: b)
        let d = model.discriminator
        d.computesInputGradient = false   // dLoss/dx of data is not needed
        // In a closure so that no reference to D's output outlives this update (it would
        // force D's buffers to be reallocated by the generator update's forward).
        let (dLoss, realScore, fakeScore) = { () -> (Float, Float, Float) in
            let logits = d.forward(stacked, training: true)
            let (r, f) = objective.meanScores(logits, batch: b)
            return (objective.discriminatorLoss(logits, batch: b), r, f)
        }()
        guard dLoss.isFinite else { throw NonFiniteError(step: step, location: "discriminator loss") }
        model.discriminatorParameters.zeroGradients()
        _ = d.backward(objective.gradLogits)
        // D's later passes (penalty, generator update) are on B rows, each with its own label.
        if let labels { model.setTrainingLabels(labels, discriminatorRows: b) }
        guard let critic, penalty != nil else { return (dLoss, realScore, fakeScore, 0) }
        let gp = penalty!.accumulate(critic: critic, real: real, fake: fake, rng: &rng, shard: shard)
        guard gp.isFinite else { throw NonFiniteError(step: step, location: "gradient penalty") }
        return (dLoss + gp, realScore, fakeScore, gp)
    }

    /// Phase 1 of the D update for a discriminator with batch statistics (BatchNorm): the
    /// stacked [real; fake] pass would normalise both with the statistics of the mixed 2B rows,
    /// which is not D applied to each batch, so D runs on the real batch (forward, loss term,
    /// backward), then on the fake batch, accumulating both gradients, as pytorch/examples'
    /// DCGAN does (`errD_real.backward()`, `errD_fake.backward()`; BatchNorm's running
    /// statistics are updated by each pass, as there).
    /// - Returns: D's loss (the sum of the two terms) and its mean scores on each batch.
    private func separateDiscriminatorGradients(real: Matrix, fake: Matrix) throws -> (Float, Float, Float) {
        let d = model.discriminator
        d.computesInputGradient = false   // dLoss/dx of data is not needed
        model.discriminatorParameters.zeroGradients()
        let (realLoss, realScore) = try discriminatorTerm(real, real: true)
        let (fakeLoss, fakeScore) = try discriminatorTerm(fake, real: false)
        return (realLoss + fakeLoss, realScore, fakeScore)
    }

    /// One batch's pass of `separateDiscriminatorGradients`: forward, loss term, backward.
    private func discriminatorTerm(_ x: Matrix, real: Bool) throws -> (loss: Float, score: Float) {
        let d = model.discriminator
        // In a closure so that no reference to D's output outlives the pass (see above).
        let (loss, score) = { () -> (Float, Float) in
            let logits = d.forward(x, training: true)
            return (objective.discriminatorTerm(logits, real: real), objective.meanScore(logits))
        }()
        guard loss.isFinite else { throw NonFiniteError(step: step, location: "discriminator loss") }
        _ = d.backward(objective.gradLogits)
        return (loss, score)
    }

    /// Phase 3 of the D update: the optimiser, then WGAN weight clipping.
    private func applyDiscriminatorUpdate() {
        discriminatorOptimizer.step()
        if let c = weightClip {
            for p in model.discriminatorParameters.parameters { p.value.clamp(low: -c, high: c) }
        }
    }

    /// Phase 1 of the G update: D frozen, forward of G(z) through D, the loss, G's gradients.
    private func generatorGradients(fake: Matrix) throws -> Float {
        let d = model.discriminator
        d.isFrozen = true
        d.computesInputGradient = true
        defer { d.isFrozen = false }
        let fakeLogits = d.forward(fake, training: true)
        let gLoss = objective.generatorLoss(fakeLogits)
        guard gLoss.isFinite else { throw NonFiniteError(step: step, location: "generator loss") }
        let gradFake = d.backward(objective.gradFakeLogits)
        model.generatorParameters.zeroGradients()
        _ = model.generator.backward(gradFake)
        return gLoss
    }

    /// Floating-point operations of the gemms of one step at batch `b` that updates G (from
    /// the layers): G forward; D forward and backward (weights, and inputs except the data's) on
    /// the 2B stacked rows; D forward and input gradients (frozen) on the B fakes; G backward
    /// (weights, and inputs except z's).
    public func flopsPerStep(batch b: Int) -> Double {
        let g = model.generator, d = model.discriminator
        let perSample = g.forwardFLOPsPerSample
            + 2 * (d.forwardFLOPsPerSample + d.backwardFLOPsPerSample(inputGradient: false, weightGradient: true))
            + d.forwardFLOPsPerSample + d.backwardFLOPsPerSample(inputGradient: true, weightGradient: false)
            + g.backwardFLOPsPerSample(inputGradient: false, weightGradient: true)
        // The penalty: D forward on x̂, its input gradient (every layer), then the double
        // backward (a weight-gradient gemm and an input-side gemm per Dense).
        let penaltyPerSample = penalty == nil ? 0 : d.forwardFLOPsPerSample
            + d.backwardFLOPsPerSample(inputGradient: true, weightGradient: false)
            + d.backwardFLOPsPerSample(inputGradient: true, weightGradient: true)
        return Double(b) * Double(perSample + penaltyPerSample)
    }

    private func prepareBuffers(batch b: Int) {
        objective.prepare(batch: b)
        // A discriminator with batch statistics runs the batches apart: no stacked buffer.
        let stackedRows = separatePasses ? 0 : 2 * b
        if z.rows == b && stacked.rows == stackedRows { return }
        // resize reuses capacity, so alternating full and last partial batches stays allocation-free.
        z.resize(rows: b, cols: model.latentDim)
        stacked.resize(rows: stackedRows, cols: model.dataDim)
    }
}
