import Linalg
import NN
import XCTest
@testable import Generative

final class GANTrainerTests: XCTestCase {
    private func makeTrainer(_ config: GANConfig, seed: UInt64 = 3) throws -> GANTrainer {
        var rng = Xoshiro256(seed: seed)
        return try GANTrainer(model: try GAN(config: config, rng: &rng), config: config, rng: Xoshiro256(seed: seed &+ 1))
    }

    private func snapshot(_ net: any Layer) -> [[Float]] { net.parameters.map { $0.value.elements } }
    private func gradients(_ net: any Layer) -> [[Float]] { net.parameters.map { $0.gradient.elements } }

    /// The article's architecture: G 100-128-784 (tanh out), D 784-128-1.
    func testDefaultArchitecture() throws {
        let t = try makeTrainer(.standard())
        XCTAssertEqual(t.model.generator.parameters.map { [$0.value.rows, $0.value.cols] },
                       [[100, 128], [1, 128], [128, 784], [1, 784]])
        XCTAssertEqual(t.model.discriminator.parameters.map { [$0.value.rows, $0.value.cols] },
                       [[784, 128], [1, 128], [128, 1], [1, 1]])
    }

    /// The generator update goes through a frozen discriminator: compared with an identical
    /// trainer whose first step makes no generator update, D's weights and gradients after
    /// the step are bit-identical, while G's weights did change.
    func testGeneratorUpdateLeavesDiscriminatorUntouched() throws {
        let real = mnistBatch(0, 32, .symmetric)
        let withG = try makeTrainer(.standard())
        var criticOnly = GANConfig.standard()
        criticOnly.criticSteps = 2          // step 1 updates D only
        let withoutG = try makeTrainer(criticOnly)
        let g0 = snapshot(withG.model.generator)
        let a = try withG.step(real: real)
        let b = try withoutG.step(real: real)
        XCTAssertEqual(a.discriminator, b.discriminator)
        XCTAssertFalse(a.generator.isNaN)
        XCTAssertTrue(b.generator.isNaN)
        XCTAssertEqual(snapshot(withG.model.discriminator), snapshot(withoutG.model.discriminator))
        XCTAssertEqual(gradients(withG.model.discriminator), gradients(withoutG.model.discriminator))
        XCTAssertNotEqual(snapshot(withG.model.generator), g0)
        XCTAssertEqual(snapshot(withoutG.model.generator), g0)
        XCTAssertFalse(withG.model.discriminator.isFrozen, "D is unfrozen again after the step")
    }

    /// A few hundred steps on real MNIST: every loss finite, samples inside tanh's range, and
    /// D's probabilities in (0, 1).
    func testShortTrainingStaysFiniteAndInRange() throws {
        var config = GANConfig.standard()
        config.generatorHidden = [64]
        config.discriminatorHidden = [64]
        let t = try makeTrainer(config)
        for s in 0..<240 {
            let start = (s * 64) % 3_000
            let l = try t.step(real: mnistBatch(start, 64, .symmetric))
            XCTAssertTrue(l.discriminator.isFinite && l.generator.isFinite, "step \(s): \(l)")
            XCTAssertTrue(l.realScore > 0 && l.realScore < 1 && l.fakeScore > 0 && l.fakeScore < 1)
        }
        var rng = Xoshiro256(seed: 9)
        let samples = t.model.sample(count: 16, rng: &rng)
        XCTAssertTrue(samples.allFinite())
        samples.withUnsafeBufferPointer { p in
            XCTAssertTrue(p.allSatisfy { $0 >= -1 && $0 <= 1 })
        }
    }

    /// Same seed, same loss sequence (and different seeds differ).
    func testDeterministicWithSeed() throws {
        func run(_ seed: UInt64) throws -> [GANStepLosses] {
            let t = try makeTrainer(.standard(), seed: seed)
            return try (0..<5).map { try t.step(real: mnistBatch($0 * 32, 32, .symmetric)) }
        }
        XCTAssertEqual(try run(11), try run(11))
        XCTAssertNotEqual(try run(11), try run(12))
    }

    /// WGAN with weight clipping (Arjovsky et al.; `standard(loss: .wasserstein)` until the
    /// gradient penalty became the default): critic weights stay within [-c, c]; the generator
    /// updates every 5th step; the critic loss is -(mean D(x) - mean D(G(z))) computed by hand
    /// from the critic's outputs.
    func testWassersteinClipsAndSchedules() throws {
        let t = try makeTrainer(.wassersteinClipping())
        let real = mnistBatch(0, 16, .symmetric)
        for s in 1...10 {
            let l = try t.step(real: real)
            XCTAssertEqual(l.generator.isNaN, s % 5 != 0, "step \(s)")
            XCTAssertEqual(l.discriminator, -(l.realScore - l.fakeScore), accuracy: 1e-5)
            for p in t.model.discriminator.parameters {
                p.value.withUnsafeBufferPointer { v in XCTAssertTrue(v.allSatisfy { abs($0) <= 0.01 }) }
            }
        }
        XCTAssertTrue(t.discriminatorOptimizer is RMSprop)
    }

    /// The discriminator loss at step 1 equals BCE computed independently from D's logits on
    /// the same real and fake batches: -[mean log σ(D(x)) + mean log(1 - σ(D(G(z))))].
    func testDiscriminatorLossMatchesDefinition() throws {
        let t = try makeTrainer(.standard(), seed: 5)
        let real = mnistBatch(0, 8, .symmetric)
        // Reproduce z and G(z) with a copy of the trainer's noise generator.
        var rng = t.rng
        var z = Matrix(rows: 8, cols: 100)
        z.withUnsafeMutableBufferPointer { rng.fillNormal($0) }
        let fake = t.model.generate(z)
        let dReal = t.model.discriminator.forward(real, training: false).elements
        let dFake = t.model.discriminator.forward(fake, training: false).elements
        func logSigmoid(_ x: Float) -> Double { -log1p(exp(-Double(x))) }
        let expected = -(dReal.map(logSigmoid).reduce(0, +) / 8
            + dFake.map { logSigmoid($0) - Double($0) }.reduce(0, +) / 8)
        let l = try t.step(real: real)
        XCTAssertEqual(Double(l.discriminator), expected, accuracy: 1e-4 * max(1, abs(expected)))
    }

    /// Gradient direction of the generator update, for each loss: with the discriminator as
    /// it is after the step, the generator loss computed here from its definition (not by the
    /// trainer) is lower for G after the step than for G before it, on the same z; and the
    /// trainer reports that loss for G before the step. A small learning rate keeps the step
    /// first-order, so a flipped sign (e.g. minimax's -BCE) would raise the loss instead.
    func testGeneratorStepDescendsItsLossForEveryLoss() throws {
        func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }
        for loss in GANLoss.allCases {
            var config = GANConfig.standard(loss: loss)
            config.learningRate = 1e-5
            config.criticSteps = 1
            let t = try makeTrainer(config, seed: 7)
            var rng = t.rng
            var z = Matrix(rows: 16, cols: config.latentDim)
            z.withUnsafeMutableBufferPointer { rng.fillNormal($0) }
            let fakeBefore = t.model.generate(z)
            let reported = try t.step(real: mnistBatch(0, 16, .symmetric)).generator
            func gLoss(_ fake: Matrix) -> Double {
                let x = t.model.discriminator.forward(fake, training: false).elements.map(Double.init)
                let n = Double(x.count)
                switch loss {
                case .nonSaturating: return x.map { softplus(-$0) }.reduce(0, +) / n   // -log σ(x)
                case .minimax: return x.map { -softplus($0) }.reduce(0, +) / n         // log(1 - σ(x))
                case .wasserstein: return -x.reduce(0, +) / n
                }
            }
            let before = gLoss(fakeBefore)
            let after = gLoss(t.model.generate(z))
            XCTAssertEqual(Double(reported), before, accuracy: 1e-4 * max(1, abs(before)), "\(loss)")
            XCTAssertLessThan(after, before, "\(loss): the generator step must lower its loss")
        }
    }
}
