import Datasets
import Foundation
import Linalg
import NN
import XCTest
@testable import Generative

/// Conditional GAN and VAE: construction, training steps with labels, the learned prior's KL
/// and gradients, sampling by class, and the label-accuracy / per-class FID evaluation.
final class ConditionalModelTests: XCTestCase {
    private func smallGAN(classes: Int?, loss: GANLoss = .nonSaturating) throws -> (GAN, GANConfig) {
        var c = GANConfig.standard(loss: loss)
        (c.latentDim, c.dataDim, c.generatorHidden, c.discriminatorHidden, c.numClasses) = (3, 6, [8], [8], classes)
        var rng = Xoshiro256(seed: 1)
        return (try GAN(config: c, rng: &rng), c)
    }

    func testOnlyOneConditionedNetworkIsRefused() throws {
        var rng = Xoshiro256(seed: 2)
        let g = LabelConditioned(Sequential.mlp(sizes: [3 + 4, 6], hidden: .relu, output: .tanh, rng: &rng), numClasses: 4)
        let d = Sequential.mlp(sizes: [6, 1], hidden: .relu, output: .identity, rng: &rng)
        XCTAssertThrowsError(try GAN(generator: g, discriminator: d, latentDim: 3)) { XCTAssertTrue("\($0)".contains("both networks")) }
        var bad = GANConfig()
        bad.numClasses = 1
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".contains("at least 2 classes")) }
    }

    /// The conditional GAN's first layers are wider by K; a class's samples depend on the label.
    func testConditionalGANTrainsAndSamplesByClass() throws {
        for loss in [GANLoss.nonSaturating, .wasserstein] {
            let (gan, config) = try smallGAN(classes: 4, loss: loss)
            XCTAssertEqual(gan.numClasses, 4)
            XCTAssertEqual(gan.generatorParameters.parameters.first?.value.rows, 3 + 4, "Dense weight is in x out")
            XCTAssertEqual(gan.discriminatorParameters.parameters.first?.value.rows, 6 + 4)
            let trainer = try GANTrainer(model: gan, config: config, rng: Xoshiro256(seed: 3))
            let real = randomBatch(5, 6, seed: 4)
            for _ in 0..<6 { _ = try trainer.step(real: real, labels: [0, 1, 2, 3, 1]) }
            let z = Matrix(rows: 2, cols: 3, repeating: 0.5)
            XCTAssertNotEqual(gan.generate(z, labels: [0, 0]).row(0), gan.generate(z, labels: [3, 3]).row(0))
            var rng = Xoshiro256(seed: 5)
            XCTAssertEqual(gan.classGrid(noise: Matrix.normal(rows: 2, cols: 3, using: &rng)).rows, 8)
        }
    }

    private func randomBatch(_ r: Int, _ c: Int, seed: UInt64) -> Matrix {
        var rng = Xoshiro256(seed: seed)
        return Matrix.uniform(rows: r, cols: c, low: -0.9, high: 0.9, using: &rng)
    }

    private func smallVAE(learnedPrior: Bool) throws -> VAE {
        var c = VAEConfig()
        (c.dataDim, c.hidden, c.latentDim, c.numClasses, c.learnedPrior) = (6, [8], 2, 3, learnedPrior)
        var rng = Xoshiro256(seed: 6)
        let v = try VAE(config: c, rng: &rng)
        // Non-zero prior tables, so the KL against them is not the N(0, I) one.
        for p in (v.priorMu?.parameters ?? []) + (v.priorLogvar?.parameters ?? []) {
            p.value = Matrix.uniform(rows: p.value.rows, cols: p.value.cols, low: -0.6, high: 0.6, using: &rng)
        }
        return v
    }

    /// The ELBO's KL is KL(q(z|x,y) || N(priorMu(y), exp(priorLogvar(y)))) written out in Double.
    func testLearnedPriorKLIsTheClosedFormForEachLabel() throws {
        let v = try smallVAE(learnedPrior: true)
        XCTAssertEqual(v.stateEntries.map(\.name).filter { $0.hasPrefix("prior") },
                       ["prior_mu.0.weight", "prior_mu.0.bias", "prior_logvar.0.weight", "prior_logvar.0.bias"])
        var xr = Xoshiro256(seed: 7)
        let x = Matrix.uniform(rows: 4, cols: 6, using: &xr), y: [Int32] = [2, 0, 1, 2]
        var rng = Xoshiro256(seed: 8)
        let kl = v.negativeELBO(x, labels: y, training: false, rng: &rng).kl
        let (mu, logvar) = v.encode(x, labels: y)
        let w = v.priorMu!.parameters, u = v.priorLogvar!.parameters   // Dense: weight K x L, bias 1 x L
        var expected = 0.0
        for r in 0..<4 { for j in 0..<2 {
            let c = Int(y[r])
            let pm = Double(w[0].value[c, j] + w[1].value[0, j]), pl = Double(u[0].value[c, j] + u[1].value[0, j])
            let m = Double(mu[r, j]), l = Double(logvar[r, j])
            expected += 0.5 * (pl - l + (exp(l) + (m - pm) * (m - pm)) / exp(pl) - 1)
        } }
        XCTAssertEqual(Double(kl), expected / 4, accuracy: 1e-5)
    }

    /// d(-ELBO)/d(prior parameters) by the backward pass against central differences with the
    /// same eps (the reconstruction does not depend on the prior).
    func testLearnedPriorGradientsMatchFiniteDifferences() throws {
        let v = try smallVAE(learnedPrior: true)
        var xr = Xoshiro256(seed: 9)
        let x = Matrix.uniform(rows: 5, cols: 6, using: &xr), y: [Int32] = [0, 1, 2, 1, 1]
        func loss() -> Double {
            var rng = Xoshiro256(seed: 10)
            return Double(v.negativeELBO(x, labels: y, training: true, rng: &rng).negativeELBO)
        }
        _ = loss()
        v.backwardNegativeELBO()
        let params = v.priorMu!.parameters + v.priorLogvar!.parameters
        for p in params {
            for i in 0..<p.value.count {
                let (r, c) = (i / p.value.cols, i % p.value.cols)
                let old = p.value[r, c], h: Float = 1e-2
                p.value[r, c] = old + h; let up = loss()
                p.value[r, c] = old - h; let down = loss()
                p.value[r, c] = old
                XCTAssertEqual(Double(p.gradient[r, c]), (up - down) / Double(2 * h), accuracy: 2e-3,
                               "\(p.name)[\(r), \(c)]")
            }
        }
    }

    /// Samples of a learned prior are `priorMu(y) + exp(priorLogvar(y) / 2) eps` decoded.
    func testSamplesComeFromEachClassPrior() throws {
        let v = try smallVAE(learnedPrior: true)
        let eps = Matrix(rows: 3, cols: 2, elements: [0.5, -1, 0, 0, 2, 1])
        let labels: [Int32] = [1, 1, 2]
        let z = v.priorLatents(eps, labels: labels)
        let w = v.priorMu!.parameters, u = v.priorLogvar!.parameters
        for r in 0..<3 { for j in 0..<2 {
            let c = Int(labels[r])
            let expected = w[0].value[c, j] + w[1].value[0, j] + exp(0.5 * (u[0].value[c, j] + u[1].value[0, j])) * eps[r, j]
            XCTAssertEqual(z[r, j], expected, accuracy: 1e-5)
        } }
        XCTAssertEqual(v.decode(z, labels: labels), v.decode(v.priorLatents(eps, labels: labels), labels: labels))
        let fixed = try smallVAE(learnedPrior: false)
        XCTAssertNil(fixed.priorMu)
        XCTAssertEqual(fixed.priorLatents(eps, labels: labels), eps)
        let analogies = fixed.analogies(Matrix(rows: 2, cols: 6, repeating: 0.5), labels: [0, 2])
        XCTAssertEqual([analogies.rows, analogies.cols], [2 * (1 + 3), 6])
        XCTAssertEqual(analogies.row(4), Matrix(rows: 1, cols: 6, repeating: 0.5), "each block starts with its original")
    }

    /// Real test digits "generated" for their true labels: label accuracy is the classifier's
    /// accuracy on them (computed apart), and each class's FID against itself is 0.
    func testConditionalScoresOfTestImagesAgainstThemselves() throws {
        let test = try MNIST.load(.test, from: packageRoot.appendingPathComponent("data/mnist"))
        let n = 2000
        let x = test.matrix().rows(0..<n), labels = Array(test.labels[0..<n])
        let ref = try FIDReference(classifier: URL(fileURLWithPath: packageRoot.appendingPathComponent("models/mnist-classifier.safetensors").path),
                                   testImages: x, testLabels: labels)
        let y = labels.map { Int32($0) }
        let s = try ref.conditionalScores(samples: x, labels: y, classes: 10)
        XCTAssertEqual(s.labelAccuracy, try ref.classifier.accuracy(x, labels: labels), accuracy: 1e-12)
        XCTAssertTrue(s.perClassFID.allSatisfy { abs($0) < 1e-3 }, "\(s.perClassFID)")
        let shifted = y.map { ($0 + 1) % 10 }
        let predicted = ref.classifier.predictions(x)
        let right = zip(predicted, shifted).filter { $0.0 == Int($0.1) }.count
        let wrong = try ref.conditionalScores(samples: x, labels: shifted, classes: 10)
        XCTAssertEqual(wrong.labelAccuracy, Double(right) / Double(n), accuracy: 1e-12)
        XCTAssertTrue(wrong.perClassFID.allSatisfy { $0 > 10 }, "another class's digits are far: \(wrong.perClassFID)")
        XCTAssertThrowsError(try ref.conditionalScores(samples: x, labels: Array(y.dropFirst()), classes: 10))
    }
}

extension ConditionalModelTests {
    /// A Gaussian decoder: with the posterior's variance driven to ~0 (logvar head bias -30),
    /// z is the posterior mean in both paths, so the IWAE estimate of the negative ELBO at k = 1
    /// equals the training ELBO's, and the reconstruction is `Loss.gaussianNLL` of the decoder's
    /// `[mean | logvar]` at that z; `decode` gives the means.
    func testGaussianDecoderELBOAndIWAEAgree() throws {
        var c = VAEConfig()
        (c.dataDim, c.hidden, c.latentDim, c.likelihood) = (2, [8], 2, .gaussian)
        var rng = Xoshiro256(seed: 12)
        let v = try VAE(config: c, rng: &rng)
        let head = v.logvarHead.parameters
        head[0].value.fill(0)
        head[1].value.fill(-30)
        let x = Matrix.uniform(rows: 6, cols: 2, using: &rng)
        var r1 = Xoshiro256(seed: 1), r2 = Xoshiro256(seed: 2)
        let elbo = v.negativeELBO(x, training: false, rng: &r1)
        let iwae = v.importanceWeightedBound(x, k: 1, rng: &r2)
        XCTAssertEqual(iwae.negativeELBO, Double(elbo.negativeELBO), accuracy: 1e-3 * abs(Double(elbo.negativeELBO)) + 1e-4)
        let out = v.decoder.forward(v.encode(x).mu, training: false)
        var g = Matrix.empty
        XCTAssertEqual(elbo.reconstruction, Loss.gaussianNLL(output: out, targets: x, reduction: .batchMean, gradient: &g), accuracy: 1e-4)
        XCTAssertEqual(v.decode(v.encode(x).mu).cols, 2, "decode gives the means")
        var conv = VAEConfig.conv()
        conv.likelihood = .gaussian
        XCTAssertThrowsError(try conv.validate())
    }
}
