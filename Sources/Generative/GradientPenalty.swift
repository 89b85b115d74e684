import Foundation
import Linalg
import NN

/// The gradient penalty of WGAN-GP (Gulrajani et al. 2017, "Improved Training of Wasserstein
/// GANs", Algorithm 1, lines 4-7): on a batch of `B` real `x` and generated `x̃`,
///
///     ε_i ~ U[0, 1)  (one per sample, from the trainer's generator),
///     x̂_i = ε_i x_i + (1 - ε_i) x̃_i,
///     GP  = λ/B Σ_i (‖∇_x̂ D(x̂_i)‖₂ - 1)²,
///
/// added to the critic loss `E[D(x̃)] - E[D(x)]`. Its gradient with respect to the critic's
/// weights is computed exactly by double backpropagation (`InputGradientDifferentiable`: the
/// critic's activations are piecewise linear, so the biases get 0). With `g_i = ∇_x̂ D(x̂_i)`,
///
///     ∂GP/∂g_i = (2λ/B) (‖g_i‖ - 1) g_i / ‖g_i‖,
///
/// taken as 0 when `g_i = 0`, where the norm has no derivative (a dead critic at that sample:
/// every direction is as good, and 0 keeps the update finite). `x̂` does not depend on the critic, and the generator is
/// not updated by this loss, so no gradient flows into `x̂`. Buffers are reused: at a fixed
/// batch size nothing is allocated.
struct GradientPenalty {
    /// λ (10 in the article).
    let lambda: Float
    private var epsilon = Matrix.empty          // B x 1
    private var interpolates = Matrix.empty     // B x dataDim: x̂
    private var ones = Matrix.empty             // B x 1: ∂D/∂D
    private var gradOfInputGradient = Matrix.empty  // B x dataDim: ∂GP/∂g

    init(lambda: Float) { self.lambda = lambda }

    /// Draws ε (`B` uniforms from `rng`), evaluates GP on `x̂`, and **adds** its gradient to
    /// the critic's parameter gradients (its forward caches are overwritten).
    /// - Parameters: real and fake are `B x dataDim`, in the same space as the critic's input.
    /// - Returns: `GP`, λ included, as it is added to the critic loss.
    mutating func accumulate(critic: any InputGradientDifferentiable, real: Matrix, fake: Matrix,
                             rng: inout Xoshiro256, shard: RowShard? = nil) -> Float {
        let b = real.rows, d = real.cols
        prepare(batch: b, dataDim: d)
        // In a data-parallel run: the global batch's ε, this process's rows.
        epsilon.withUnsafeMutableBufferPointer { e in
            if let shard { rng.fillUniform(e, shard: shard, cols: 1) } else { rng.fillUniform(e) }
        }
        interpolate(real, fake)
        _ = critic.forward(interpolates, training: false)
        // In a closure so that no reference to the critic's input-gradient buffer outlives it.
        let sum = { () -> Double in
            let g = critic.differentiableInputGradient(ones)
            return penaltyAndGradient(g, scale: 2 * lambda / Float(b))
        }()
        _ = critic.backwardOfInputGradient(gradOfInputGradient)
        return Float(Double(lambda) * sum / Double(b))
    }

    private mutating func prepare(batch b: Int, dataDim d: Int) {
        if interpolates.rows == b && interpolates.cols == d { return }
        epsilon.resize(rows: b, cols: 1)
        interpolates.resize(rows: b, cols: d)
        gradOfInputGradient.resize(rows: b, cols: d)
        ones.resize(rows: b, cols: 1)
        ones.fill(1)
    }

    /// `x̂_i = ε_i x_i + (1 - ε_i) x̃_i`, as written in the article.
    private mutating func interpolate(_ real: Matrix, _ fake: Matrix) {
        let d = real.cols
        epsilon.withUnsafeBufferPointer { e in
            real.withUnsafeBufferPointer { x in
                fake.withUnsafeBufferPointer { xt in
                    interpolates.withUnsafeMutableBufferPointer { out in
                        for i in 0..<e.count {
                            let a = e[i], c = 1 - e[i], o = i &* d
                            for j in 0..<d { out[o &+ j] = a * x[o &+ j] + c * xt[o &+ j] }
                        }
                    }
                }
            }
        }
    }

    /// `Σ_i (‖g_i‖ - 1)²` (norms accumulated in Double), and `∂/∂g_i = scale (‖g_i‖ - 1) g_i / ‖g_i‖`
    /// (0 for `g_i = 0`) into `gradOfInputGradient`.
    private mutating func penaltyAndGradient(_ g: Matrix, scale: Float) -> Double {
        let d = g.cols
        return g.withUnsafeBufferPointer { gp in
            gradOfInputGradient.withUnsafeMutableBufferPointer { u in
                var total = 0.0
                for i in 0..<g.rows {
                    let o = i &* d
                    var sq = 0.0
                    for j in 0..<d { let v = Double(gp[o &+ j]); sq += v * v }
                    let norm = sq.squareRoot()
                    total += (norm - 1) * (norm - 1)
                    let f = norm > 0 ? scale * Float((norm - 1) / norm) : 0
                    for j in 0..<d { u[o &+ j] = f * gp[o &+ j] }
                }
                return total
            }
        }
    }
}
