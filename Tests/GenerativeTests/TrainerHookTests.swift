import Linalg
import NN
import XCTest
import Generative

/// Trainers in phases: hooks run between "gradients ready" and "apply", on each network's
/// contiguous gradients; any network of layers can be trained.
final class TrainerHookTests: XCTestCase {
    /// A generator the MLP factory does not build: three hidden layers with different
    /// activations, and a discriminator with a separate activation layer.
    private func customGAN(rng: inout Xoshiro256) throws -> GAN {
        let g = Sequential([Dense(inputSize: 8, outputSize: 16, activation: .relu, rng: &rng),
                            Dense(inputSize: 16, outputSize: 16, activation: .softplus, rng: &rng),
                            Dense(inputSize: 16, outputSize: 16, activation: .leakyReLU(negativeSlope: 0.2), rng: &rng),
                            Dense(inputSize: 16, outputSize: 6, activation: .tanh, rng: &rng)])
        let d = Sequential([Dense(inputSize: 6, outputSize: 12, rng: &rng), ActivationLayer(.leakyReLU(negativeSlope: 0.2)),
                            Dense(inputSize: 12, outputSize: 1, rng: &rng)])
        return try GAN(generator: g, discriminator: d, latentDim: 8)
    }

    func testClipNormHookBoundsEveryUpdatesTotalNorm() throws {
        var rng = Xoshiro256(seed: 11)
        let gan = try customGAN(rng: &rng)
        XCTAssertEqual(gan.dataDim, 6)
        let trainer = GANTrainer(model: gan, loss: .nonSaturating,
                                 generatorOptimizer: Adam(parameters: gan.generator.parameters, learningRate: 1e-3),
                                 discriminatorOptimizer: Adam(parameters: gan.discriminator.parameters, learningRate: 1e-3),
                                 rng: Xoshiro256(seed: 12))
        var seen: [Double] = []
        var raw: [Double] = []
        trainer.gradientHooks = [
            GradientHook(name: "probe before") { raw.append($0.gradientNorm()) },
            .nonFiniteCheck, .clipNorm(0.01),
            GradientHook(name: "probe after") { seen.append($0.gradientNorm()) },
        ]
        let real = Matrix.uniform(rows: 16, cols: 6, low: -1, high: 1, using: &rng)
        for _ in 0..<3 { try trainer.step(real: real) }
        XCTAssertEqual(seen.count, 6, "one D and one G update per step")
        XCTAssertTrue(raw.allSatisfy { $0 > 0.01 }, "the case must need clipping: \(raw)")
        for n in seen { XCTAssertEqual(n, 0.01, accuracy: 1e-6) }
    }

    func testAHookThatThrowsStopsTheUpdate() throws {
        var rng = Xoshiro256(seed: 5)
        var cfg = VAEConfig()
        cfg.dataDim = 6; cfg.hidden = [8]; cfg.latentDim = 2
        let vae = try VAE.mlp(cfg, rng: &rng)
        let trainer = VAETrainer(model: vae, config: cfg, rng: Xoshiro256(seed: 6))
        struct Veto: Error {}
        trainer.gradientHooks.append(GradientHook(name: "veto") { _ in throw Veto() })
        let before = vae.stateDict().map { $0.tensor.elements }
        let x = Matrix.uniform(rows: 4, cols: 6, using: &rng)
        XCTAssertThrowsError(try trainer.step(batch: x)) { XCTAssertTrue($0 is Veto) }
        XCTAssertEqual(vae.stateDict().map { $0.tensor.elements }, before, "no update applied")
        XCTAssertEqual(trainer.optimizer.stepCount, 0)
    }
}
