import Foundation
import Linalg
import NN
import XCTest
@testable import Generative

/// KL warm-up: at step s of w the update follows the gradient of reconstruction + (s/w)·KL
/// (checked by central differences of that objective, same eps), and the full one after.
final class KLWarmupTests: XCTestCase {
    func testWarmupScalesTheKLGradient() throws {
        var c = VAEConfig()
        (c.dataDim, c.hidden, c.latentDim, c.klWarmupSteps) = (3, [5], 2, 4)
        var rng = Xoshiro256(seed: 21)
        let vae = try VAE(config: c, rng: &rng)
        let x = Matrix.uniform(rows: 4, cols: 3, using: &rng)
        let trainer = VAETrainer(model: vae, config: c, rng: Xoshiro256(seed: 5))
        XCTAssertEqual(trainer.klWarmupSteps, 4)
        // The mu head's bias gradient of the first step (beta = 1/4), captured before Adam.
        let bias = vae.muHead.parameters[1]
        var captured: [Float] = []
        trainer.gradientHooks.append(GradientHook(name: "capture") { _ in captured = bias.gradient.elements })
        let before = bias.value
        _ = try trainer.step(batch: x)
        bias.value = before   // undo the update: the objective below is at the step's parameters
        func objective(_ beta: Double) -> Double {
            var r = Xoshiro256(seed: 5)   // the trainer's eps of its first step
            let l = vae.negativeELBO(x, training: false, rng: &r)
            return Double(l.reconstruction) + beta * Double(l.kl)
        }
        for j in 0..<2 {
            let old = bias.value[0, j], h: Float = 4e-3
            bias.value[0, j] = old + h; let up = objective(0.25)
            bias.value[0, j] = old - h; let down = objective(0.25)
            bias.value[0, j] = old
            let quarter = (up - down) / Double(2 * h)
            XCTAssertEqual(Double(captured[j]), quarter, accuracy: 1e-3 + 0.01 * abs(quarter), "mu bias \(j) at beta 1/4")
            bias.value[0, j] = old + h; let fullUp = objective(1)
            bias.value[0, j] = old - h; let fullDown = objective(1)
            bias.value[0, j] = old
            let full = (fullUp - fullDown) / Double(2 * h)
            XCTAssertGreaterThan(abs(full - quarter), 5 * (1e-3 + 0.01 * abs(quarter)), "beta 1 would be told apart")
        }
    }
}
