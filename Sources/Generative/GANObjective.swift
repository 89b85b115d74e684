import Foundation
import Linalg
import NN

/// The losses of the GAN minimax game on discriminator logits, with their gradients, in
/// reused buffers (no allocation once sized). See `GANLoss` for the formulas and sources.
struct GANObjective {
    let loss: GANLoss
    private(set) var targets = Matrix.empty      // 2B x 1: ones then zeros
    private(set) var ones = Matrix.empty         // B x 1
    private(set) var zeros = Matrix.empty        // B x 1
    /// dLoss/dlogits of the last `discriminatorLoss` (2B x 1) and `generatorLoss` (B x 1).
    var gradLogits = Matrix.empty
    var gradFakeLogits = Matrix.empty

    init(loss: GANLoss) { self.loss = loss }

    /// Sizes the target buffers for batch `b` (no allocation when the capacity suffices).
    mutating func prepare(batch b: Int) {
        if targets.rows == 2 * b { return }
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
    mutating func discriminatorLoss(_ logits: Matrix, batch b: Int) -> Float {
        switch loss {
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

    /// D's loss on one of its two batches, run apart (a discriminator with batch statistics,
    /// see `GANTrainer`): the real term (`real`: BCE against 1, or `-E[D(x)]` for WGAN) or the
    /// fake term (BCE against 0, or `+E[D(G(z))]`), each a mean over its B rows, so the two
    /// terms add up to `discriminatorLoss` of the stacked logits. Gradient into `gradLogits`
    /// (B x 1).
    mutating func discriminatorTerm(_ logits: Matrix, real: Bool) -> Float {
        let b = logits.rows
        switch loss {
        case .minimax, .nonSaturating:
            return Loss.binaryCrossEntropyWithLogits(
                logits: logits, targets: real ? ones : zeros, reduction: .mean, gradient: &gradLogits)
        case .wasserstein:
            let sign: Float = real ? -1 : 1
            gradLogits.resize(rows: b, cols: 1)
            gradLogits.fill(sign / Float(b))
            return sign * meanScore(logits)
        }
    }

    /// Mean D output over all rows of `logits`: sigmoid probabilities for the BCE losses, raw
    /// critic scores for WGAN.
    func meanScore(_ logits: Matrix) -> Float {
        let sigmoid = loss != .wasserstein
        return logits.withUnsafeBufferPointer { p in
            var r = 0.0
            for i in 0..<p.count {
                let x = Double(p[i])
                r += sigmoid ? 1 / (1 + exp(-x)) : x
            }
            return Float(r / Double(p.count))
        }
    }

    /// G's loss on D's logits for G(z), and its gradient into `gradFakeLogits`.
    mutating func generatorLoss(_ logits: Matrix) -> Float {
        let b = logits.rows
        switch loss {
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
    func meanScores(_ logits: Matrix, batch b: Int) -> (Float, Float) {
        let sigmoid = loss != .wasserstein
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

}
