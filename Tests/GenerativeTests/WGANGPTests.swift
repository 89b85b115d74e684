import Foundation
import Linalg
import NN
import XCTest
@testable import Generative

/// WGAN-GP (Gulrajani et al. 2017): configuration, the critic loss against an independent
/// Double computation, the direction of a critic step, the refused critics, and old
/// `config.json` files keeping weight clipping.
final class WGANGPTests: XCTestCase {
    /// A one-hidden-layer critic `D(x) = leaky(x W1 + b1) w2 + b2` in Double, read from the
    /// trainer's discriminator (GAN.mlp with one hidden width).
    private struct Critic {
        var w1: [Double], b1: [Double], w2: [Double], b2: Double
        let nin: Int, nh: Int, slope: Double

        init(_ d: any Layer) throws {
            let s = try XCTUnwrap(d as? Sequential)
            let l1 = try XCTUnwrap(s.layers[0] as? Dense), l2 = try XCTUnwrap(s.layers[1] as? Dense)
            guard case .leakyReLU(let k) = l1.activation else { throw XCTSkip("not LeakyReLU") }
            XCTAssertEqual(s.layers.count, 2)
            XCTAssertEqual(l2.activation, .identity)
            w1 = l1.weight.value.elements.map(Double.init); b1 = l1.bias.value.elements.map(Double.init)
            w2 = l2.weight.value.elements.map(Double.init); b2 = Double(l2.bias.value[0, 0])
            nin = l1.inputSize; nh = l1.outputSize; slope = Double(k)
        }

        private func pre(_ x: ArraySlice<Double>) -> [Double] {
            let v = Array(x)
            var a = b1
            for i in 0..<nin { for j in 0..<nh { a[j] += v[i] * w1[i * nh + j] } }
            return a
        }

        func score(_ x: ArraySlice<Double>) -> Double {
            var s = b2
            for (a, w) in zip(pre(x), w2) { s += (a > 0 ? a : slope * a) * w }
            return s
        }

        /// ∇_x D = W1 (w2 ⊙ leaky'(a)).
        func inputGradient(_ x: ArraySlice<Double>) -> [Double] {
            let d = zip(pre(x), w2).map { ($0 > 0 ? 1 : slope) * $1 }
            return (0..<nin).map { i in (0..<nh).reduce(0) { $0 + w1[i * nh + $1] * d[$1] } }
        }

        /// E[D(fake)] - E[D(real)] + λ E[(‖∇D(x̂)‖ - 1)²] over rows of `dim` values; also the
        /// penalty term alone.
        func loss(real: [Double], fake: [Double], interpolates: [Double], lambda: Double) -> (Double, Double) {
            let b = real.count / nin
            func rows(_ v: [Double]) -> [ArraySlice<Double>] { (0..<b).map { v[($0 * nin)..<($0 * nin + nin)] } }
            let w = rows(fake).map(score).reduce(0, +) / Double(b) - rows(real).map(score).reduce(0, +) / Double(b)
            let gp = lambda * rows(interpolates).map { x -> Double in
                let n = inputGradient(x).reduce(0) { $0 + $1 * $1 }.squareRoot()
                return (n - 1) * (n - 1)
            }.reduce(0, +) / Double(b)
            return (w + gp, gp)
        }

        /// The parameters in the trainer's gradient order (W1, b1, w2, b2), and the critic with
        /// them replaced.
        var flat: [Double] { w1 + b1 + w2 + [b2] }
        func with(_ p: [Double]) -> Critic {
            var c = self
            c.w1 = Array(p[0..<(nin * nh)]); c.b1 = Array(p[(nin * nh)..<(nin * nh + nh)])
            c.w2 = Array(p[(nin * nh + nh)..<(nin * nh + 2 * nh)]); c.b2 = p[nin * nh + 2 * nh]
            return c
        }
    }

    private func makeTrainer(_ config: GANConfig, seed: UInt64) throws -> GANTrainer {
        var rng = Xoshiro256(seed: seed)
        return try GANTrainer(model: try GAN(config: config, rng: &rng), config: config, rng: Xoshiro256(seed: seed &+ 1))
    }

    /// z then ε drawn from a copy of the trainer's generator, as the trainer draws them; the
    /// fakes, the interpolates x̂ = ε x + (1 - ε) x̃ (Double), and the real rows as Doubles.
    private func reproduce(_ t: GANTrainer, real: Matrix) -> (real: [Double], fake: [Double], xhat: [Double]) {
        var rng = t.rng
        let b = real.rows, d = real.cols
        var z = Matrix(rows: b, cols: t.model.latentDim)
        z.withUnsafeMutableBufferPointer { rng.fillNormal($0) }
        var eps = Matrix(rows: b, cols: 1)
        eps.withUnsafeMutableBufferPointer { rng.fillUniform($0) }
        let x = real.elements.map(Double.init), f = t.model.generate(z).elements.map(Double.init)
        let e = eps.elements.map(Double.init)
        let xhat = (0..<(b * d)).map { e[$0 / d] * x[$0] + (1 - e[$0 / d]) * f[$0] }
        return (x, f, xhat)
    }

    /// The defaults are the article's (λ 10, 5 critic steps, Adam(1e-4, 0, 0.9); no clipping)
    /// with the measured critic D 784-256-128-1, LeakyReLU 0.2.
    func testStandardWassersteinIsGradientPenalty() throws {
        let c = GANConfig.standard(loss: .wasserstein)
        XCTAssertEqual(c.gradientPenalty, 10)
        XCTAssertEqual([c.learningRate, c.beta1, c.beta2], [1e-4, 0, 0.9])
        XCTAssertEqual(c.criticSteps, 5)
        XCTAssertEqual(c.optimizer, .adam)
        XCTAssertEqual(c.discriminatorHidden, [256, 128])
        XCTAssertEqual(c.generatorHidden, [128])
        XCTAssertEqual(c.negativeSlope, 0.2)
        let t = try makeTrainer(c, seed: 1)
        XCTAssertEqual(t.gradientPenalty, 10)
        XCTAssertNil(t.weightClip)
        XCTAssertEqual(try JSONDecoder().decode(GANConfig.self, from: JSONEncoder().encode(c)), c)
        let clip = try makeTrainer(.wassersteinClipping(), seed: 1)
        XCTAssertEqual(clip.weightClip, 0.01)
        XCTAssertNil(clip.gradientPenalty)
        XCTAssertTrue(clip.discriminatorOptimizer is RMSprop)
    }

    /// A config.json `gan` object written before the field existed (1be6d02's keys) with
    /// loss wasserstein decodes to the clipping WGAN it was trained as; a new one round-trips.
    func testOldWassersteinConfigKeepsWeightClipping() throws {
        let old = """
            {"beta1": 0.5, "beta2": 0.999, "clipValue": 0.01, "criticSteps": 5, "dataDim": 784,
             "discriminatorHidden": [128], "generatorHidden": [128], "latentDim": 100,
             "learningRate": 5e-05, "loss": "wasserstein", "negativeSlope": 0.01, "optimizer": "rmsprop"}
            """
        let c = try JSONDecoder().decode(GANConfig.self, from: Data(old.utf8))
        XCTAssertNil(c.gradientPenalty)
        XCTAssertEqual(c, .wassersteinClipping())
        let t = try makeTrainer(c, seed: 2)
        XCTAssertEqual(t.weightClip, 0.01)
        XCTAssertNil(t.gradientPenalty)
        // Without a penalty nothing new is written, so old readers still read new files.
        let json = String(decoding: try JSONEncoder().encode(GANConfig.wassersteinClipping()), as: UTF8.self)
        XCTAssertFalse(json.contains("gradientPenalty"), json)
    }

    func testInvalidPenaltySettingsAreRefused() {
        var c = GANConfig.standard()
        c.gradientPenalty = 10
        XCTAssertThrowsError(try c.validate()) {
            XCTAssertEqual("\($0)", "gradient penalty applies to the wasserstein loss only, not non-saturating")
        }
        for bad: Float in [0, -1, .nan, .infinity] {
            var w = GANConfig.standard(loss: .wasserstein)
            w.gradientPenalty = bad
            XCTAssertThrowsError(try w.validate(), "\(bad)")
        }
    }

    /// A critic whose double backward would not be exact (tanh) or does not exist is refused
    /// with a ConfigError naming the layer.
    func testCriticWithoutExactDoubleBackwardIsRefused() throws {
        var rng = Xoshiro256(seed: 4)
        let g = Sequential.mlp(sizes: [2, 8, 3], hidden: .relu, output: .tanh, rng: &rng)
        let curved = Sequential.mlp(sizes: [3, 8, 1], hidden: .tanh, output: .identity, rng: &rng)
        let config = GANConfig.standard(loss: .wasserstein)
        let gan = try GAN(generator: g, discriminator: curved, latentDim: 2)
        XCTAssertThrowsError(try GANTrainer(model: gan, config: config, rng: rng)) { e in
            XCTAssertTrue(e is ConfigError)
            XCTAssertEqual("\(e)", "the gradient penalty cannot be differentiated exactly through the critic: "
                + "layer 0: Dense 3->8 with tanh: its second derivative is not zero (use identity, ReLU or LeakyReLU activations)")
        }
        // The clipping WGAN needs no double backward: the same critic is accepted there.
        XCTAssertNoThrow(try GANTrainer(model: gan, config: .wassersteinClipping(), rng: rng))
    }

    /// The reported critic loss at step 1 equals E[D(x̃)] - E[D(x)] + λ E[(‖∇D(x̂)‖ - 1)²]
    /// computed in Double from the critic's weights (∇D written out for the one-hidden-layer
    /// critic), with z and ε reproduced from the trainer's generator in its order: z, then ε;
    /// and the gradient the critic update used (left in D's gradient buffer) equals central
    /// differences of that Double loss for every critic parameter.
    /// Checked at step 1 and again after 7 steps (3 of them generator updates: criticSteps 2),
    /// so that no state left by earlier steps (caches, buffers) can hide.
    func testCriticLossAndGradientMatchIndependentComputation() throws {
        var config = GANConfig.standard(loss: .wasserstein)
        config.dataDim = 3; config.latentDim = 2
        config.generatorHidden = [6]; config.discriminatorHidden = [5]
        config.negativeSlope = 0.2
        config.criticSteps = 2
        let t = try makeTrainer(config, seed: 11)
        var rng = Xoshiro256(seed: 99)
        for warmup in [0, 7] {
            for _ in 0..<warmup {
                try t.step(real: Matrix.uniform(rows: 4, cols: 3, low: -1, high: 1, using: &rng))
            }
            let real = Matrix.uniform(rows: 4, cols: 3, low: -1, high: 1, using: &rng)
            let (x, f, xhat) = reproduce(t, real: real)
            let critic = try Critic(t.model.discriminator)
            let (expected, gp) = critic.loss(real: x, fake: f, interpolates: xhat, lambda: 10)
            let l = try t.step(real: real)
            let numerical = numericalGradient(critic.flat, h: 1e-6) {
                critic.with($0).loss(real: x, fake: f, interpolates: xhat, lambda: 10).0
            }
            let analytic = t.model.discriminatorParameters.gradients.elements.map(Double.init)
            XCTAssertEqual(analytic.count, numerical.count)
            for (i, (a, n)) in zip(analytic, numerical).enumerated() {
                XCTAssertEqual(a, n, accuracy: 1e-4 + 1e-3 * abs(n), "after \(warmup) steps: critic gradient [\(i)]")
            }
            XCTAssertEqual(Double(l.discriminator), expected, accuracy: 1e-5 * max(1, abs(expected)))
            XCTAssertEqual(Double(l.gradientPenalty), gp, accuracy: 1e-5 * max(1, gp))
            XCTAssertGreaterThan(gp, 0.1, "the penalty must matter in this check")
            XCTAssertEqual(l.discriminator - l.gradientPenalty, l.fakeScore - l.realScore, accuracy: 1e-5)
        }
    }

    /// One critic step with the default optimiser settings (on a one-hidden-layer critic)
    /// lowers the critic loss computed from its definition (Double, same real batch, same fakes
    /// and x̂), for two seeds; at MNIST size the gradient used matches central differences on a
    /// few weights of each tensor.
    func testCriticStepLowersItsLoss() throws {
        // One hidden layer, as the Double critic here computes (the default critic has two).
        var config = GANConfig.standard(loss: .wasserstein)
        config.discriminatorHidden = [128]
        for seed: UInt64 in [1, 2] {
            let t = try makeTrainer(config, seed: seed)
            let real = mnistBatch(Int(seed) * 64, 16, .symmetric)
            let (x, f, xhat) = reproduce(t, real: real)
            let critic = try Critic(t.model.discriminator)
            let before = critic.loss(real: x, fake: f, interpolates: xhat, lambda: 10)
            let l = try t.step(real: real)
            // At MNIST size too, the gradient used equals central differences (a few weights of
            // W1, b1 and w2: the full set would take minutes in Double).
            let flat = critic.flat, grads = t.model.discriminatorParameters.gradients.elements
            for i in seed == 1 ? [5, 100_351, 100_352 + 128 + 3] : [] {
                var p = flat
                p[i] += 1e-4; let up = critic.with(p).loss(real: x, fake: f, interpolates: xhat, lambda: 10).0
                p[i] -= 2e-4; let down = critic.with(p).loss(real: x, fake: f, interpolates: xhat, lambda: 10).0
                XCTAssertEqual(Double(grads[i]), (up - down) / 2e-4, accuracy: 2e-3 * max(1, abs(up - down) / 2e-4),
                               "seed \(seed) parameter \(i)")
            }
            XCTAssertTrue(l.generator.isNaN, "step 1 of 5 updates the critic only")
            let after = try Critic(t.model.discriminator).loss(real: x, fake: f, interpolates: xhat, lambda: 10)
            XCTAssertEqual(Double(l.discriminator), before.0, accuracy: 1e-4 * max(1, before.0))
            XCTAssertLessThan(after.0, before.0, "seed \(seed)")
        }
    }

    /// The gradient penalty draws B uniforms after z; the clipping WGAN's stream is z only.
    func testNoiseStreams() throws {
        let real = mnistBatch(0, 8, .symmetric)
        for (config, extra) in [(GANConfig.standard(loss: .wasserstein), true), (.wassersteinClipping(), false),
                                (.standard(), false)] {
            let t = try makeTrainer(config, seed: 5)
            var rng = t.rng
            var buffer = [Float](repeating: 0, count: 8 * 100)
            buffer.withUnsafeMutableBufferPointer { rng.fillNormal($0) }
            if extra { buffer.withUnsafeMutableBufferPointer { rng.fillUniform(UnsafeMutableBufferPointer(rebasing: $0[0..<8])) } }
            _ = try t.step(real: real)
            XCTAssertEqual(t.rng, rng, "\(config.loss) penalty \(String(describing: config.gradientPenalty))")
        }
    }
}

/// Central differences of `f` at `v` (Double).
private func numericalGradient(_ v: [Double], h: Double, _ f: ([Double]) -> Double) -> [Double] {
    var x = v
    return v.indices.map { i in
        x[i] = v[i] + h; let fp = f(x)
        x[i] = v[i] - h; let fm = f(x)
        x[i] = v[i]
        return (fp - fm) / (2 * h)
    }
}
