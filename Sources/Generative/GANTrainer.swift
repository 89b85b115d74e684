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
}

/// A non-finite loss or gradient: training cannot continue from this state.
public struct NonFiniteError: Error, CustomStringConvertible, Sendable {
    /// The trainer's step count (1-based) when it was detected.
    public let step: Int
    /// Where it appeared first, e.g. `discriminator loss`, `generator 2.weight gradient`.
    public let location: String
    public var description: String { "non-finite value (NaN or inf) in \(location) at step \(step)" }
}

/// Trains a `GAN` one mini-batch at a time.
///
/// One `step(real:)`: draw `z`, generate `G(z)`, update D on the real batch and the fake batch
/// (stacked into one `2B x dataDim` matrix so each D layer is one gemm), then, every
/// `config.criticSteps` steps, update G through D with D **frozen** (no D parameter gradient is
/// computed; D's weights cannot change). As in the PyTorch DCGAN example, the G update reuses
/// this step's `G(z)`, so G runs forward once per step. All buffers are allocated on the first
/// step; later steps at the same batch size perform no heap allocation.
public final class GANTrainer {
    public let model: GAN
    public let discriminatorOptimizer: any Optimizer
    public let generatorOptimizer: any Optimizer
    /// Noise generator for z; part of the training state (saved in checkpoints).
    public var rng: Xoshiro256
    /// Completed steps (each one D update).
    public private(set) var step: Int = 0

    private var z = Matrix.empty
    private var stacked = Matrix.empty      // [real; fake], 2B x dataDim
    private var targets = Matrix.empty      // 2B x 1: ones then zeros
    private var ones = Matrix.empty         // B x 1
    private var zeros = Matrix.empty        // B x 1
    private var gradLogits = Matrix.empty
    private var gradFakeLogits = Matrix.empty

    /// - Parameter rng: the noise generator (seeded by the caller).
    public init(model: GAN, rng: Xoshiro256) {
        self.model = model
        self.rng = rng
        let c = model.config
        discriminatorOptimizer = GANTrainer.makeOptimizer(c, model.discriminator.parameters)
        generatorOptimizer = GANTrainer.makeOptimizer(c, model.generator.parameters)
    }

    static func makeOptimizer(_ c: GANConfig, _ p: [Parameter]) -> any Optimizer {
        switch c.optimizer {
        case .adam: return Adam(parameters: p, learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2)
        case .rmsprop: return RMSprop(parameters: p, learningRate: c.learningRate)
        case .sgd: return SGD(parameters: p, learningRate: c.learningRate, momentum: c.beta1)
        }
    }

    /// Restores the step counter (when resuming from a checkpoint).
    public func restore(step: Int, rng: Xoshiro256) {
        self.step = step
        self.rng = rng
    }

    /// One training step on `real` (`B x dataDim`, values in the generator's range [-1, 1]).
    /// - Throws: `NonFiniteError` when a loss or a parameter gradient becomes NaN or inf; the
    ///   update it would have fed is not applied (the D update of this step is kept when only
    ///   the generator's loss or gradient is non-finite). The step counter and noise generator
    ///   have advanced, so the caller may skip the batch and continue.
    @discardableResult
    public func step(real: Matrix) throws -> GANStepLosses {
        let c = model.config
        precondition(real.cols == c.dataDim,
                     "GANTrainer.step: real batch is \(real.rows)x\(real.cols), expected B x \(c.dataDim)")
        let b = real.rows
        step += 1
        let updatesGenerator = step % c.criticSteps == 0
        prepareBuffers(batch: b)

        // z ~ N(0, I); G(z) kept for the generator update when there is one.
        z.withUnsafeMutableBufferPointer { rng.fillNormal($0) }
        let fake = model.generator.forward(z, training: updatesGenerator)

        // --- Discriminator update on [real; fake] ---
        stacked.setRows(real, at: 0)
        stacked.setRows(fake, at: b)
        let d = model.discriminator
        d.layers.first?.computesInputGradient = false   // dLoss/dx of data is not needed
        // In a closure so that no reference to D's output outlives this update (it would
        // force D's buffers to be reallocated by the generator update's forward).
        let (dLoss, realScore, fakeScore) = { () -> (Float, Float, Float) in
            let logits = d.forward(stacked, training: true)
            let (r, f) = meanScores(logits, batch: b)
            return (discriminatorLoss(logits, batch: b), r, f)
        }()
        guard dLoss.isFinite else { throw NonFiniteError(step: step, location: "discriminator loss") }
        d.zeroGradients()
        _ = d.backward(gradLogits)
        // A finite loss can still give an inf/NaN gradient (overflow in backward): never apply it.
        if let name = d.firstNonFiniteGradient() {
            throw NonFiniteError(step: step, location: "discriminator \(name) gradient")
        }
        discriminatorOptimizer.step()
        if c.loss == .wasserstein { clipWeights(d, c.clipValue) }

        guard updatesGenerator else {
            return GANStepLosses(discriminator: dLoss, generator: .nan,
                                 realScore: realScore, fakeScore: fakeScore)
        }

        // --- Generator update through the frozen discriminator ---
        d.isFrozen = true
        d.layers.first?.computesInputGradient = true
        defer { d.isFrozen = false }
        let fakeLogits = d.forward(fake, training: true)
        let gLoss = generatorLoss(fakeLogits)
        guard gLoss.isFinite else { throw NonFiniteError(step: step, location: "generator loss") }
        let gradFake = d.backward(gradFakeLogits)
        model.generator.zeroGradients()
        _ = model.generator.backward(gradFake)
        if let name = model.generator.firstNonFiniteGradient() {
            throw NonFiniteError(step: step, location: "generator \(name) gradient")
        }
        generatorOptimizer.step()
        return GANStepLosses(discriminator: dLoss, generator: gLoss,
                             realScore: realScore, fakeScore: fakeScore)
    }

    private func prepareBuffers(batch b: Int) {
        let c = model.config
        if z.rows == b && targets.rows == 2 * b { return }
        // resize reuses capacity, so alternating full and last partial batches stays allocation-free.
        z.resize(rows: b, cols: c.latentDim)
        stacked.resize(rows: 2 * b, cols: c.dataDim)
        // Targets: real -> 1, fake -> 0 (the discriminator's labels).
        targets.resize(rows: 2 * b, cols: 1)
        targets.withUnsafeMutableBufferPointer { p in
            for i in 0..<(2 &* b) { p[i] = i < b ? 1 : 0 }
        }
        ones.resize(rows: b, cols: 1)
        ones.fill(1)
        zeros.resize(rows: b, cols: 1)
        zeros.fill(0)
    }

    /// D's loss on the stacked logits and its gradient into `gradLogits`.
    private func discriminatorLoss(_ logits: Matrix, batch b: Int) -> Float {
        switch model.config.loss {
        case .minimax, .nonSaturating:
            // -[log D(x) + log(1 - D(G(z)))], each term a mean over its batch of B:
            // the sum over 2B rows divided by B.
            let sum = Loss.binaryCrossEntropyWithLogits(
                logits: logits, targets: targets, reduction: .sum, gradient: &gradLogits)
            gradLogits.scale(by: 1 / Float(b))
            return sum / Float(b)
        case .wasserstein:
            // -(E[D(x)] - E[D(G(z))]): d/dD(x_i) = -1/B, d/dD(G(z_i)) = +1/B.
            gradLogits.resize(rows: 2 * b, cols: 1)
            let inv = 1 / Float(b)
            gradLogits.withUnsafeMutableBufferPointer { g in
                for i in 0..<b { g[i] = -inv; g[b &+ i] = inv }
            }
            let (r, f) = meanScores(logits, batch: b)
            return -(r - f)
        }
    }

    /// G's loss on D's logits for G(z), and its gradient into `gradFakeLogits`.
    private func generatorLoss(_ logits: Matrix) -> Float {
        let b = logits.rows
        switch model.config.loss {
        case .nonSaturating:
            // -E[log D(G(z))] = BCE(D(G(z)), 1).
            return Loss.binaryCrossEntropyWithLogits(
                logits: logits, targets: ones, reduction: .mean, gradient: &gradFakeLogits)
        case .minimax:
            // E[log(1 - D(G(z)))] = -BCE(D(G(z)), 0), minimised by G.
            let bce = Loss.binaryCrossEntropyWithLogits(
                logits: logits, targets: zeros, reduction: .mean, gradient: &gradFakeLogits)
            gradFakeLogits.scale(by: -1)
            return -bce
        case .wasserstein:
            // -E[D(G(z))].
            gradFakeLogits.resize(rows: b, cols: 1)
            gradFakeLogits.fill(-1 / Float(b))
            return -Float(logits.mean())
        }
    }

    /// Mean D output over the real rows and over the fake rows: sigmoid probabilities for the
    /// BCE losses, raw critic scores for WGAN.
    private func meanScores(_ logits: Matrix, batch b: Int) -> (Float, Float) {
        let sigmoid = model.config.loss != .wasserstein
        return logits.withUnsafeBufferPointer { p in
            var r = 0.0, f = 0.0
            for i in 0..<b {
                let x = Double(p[i]), y = Double(p[b &+ i])
                r += sigmoid ? 1 / (1 + exp(-x)) : x
                f += sigmoid ? 1 / (1 + exp(-y)) : y
            }
            return (Float(r / Double(b)), Float(f / Double(b)))
        }
    }

    private func clipWeights(_ net: Sequential, _ c: Float) {
        for p in net.parameters { p.value.clamp(low: -c, high: c) }
    }
}
