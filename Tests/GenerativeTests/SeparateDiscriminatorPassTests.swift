import Foundation
import Linalg
import NN
import XCTest
@testable import Generative

/// A discriminator with BatchNorm sees the real and the fake batch apart: checked against the
/// loss written out by hand in Double (BatchNorm with each batch's own statistics) and its
/// gradient by central differences.
final class SeparateDiscriminatorPassTests: XCTestCase {
    /// D's parameters in Double: W1 (`4 x 3`, Dense layout in x out), b1, γ, β, W2 (`3 x 1`), b2.
    struct DParams { var p: [[Double]] }

    /// D(x) for the rows of `x` (`n x 4`), BatchNorm in training mode over these rows only.
    static func logits(_ x: [[Double]], _ d: DParams) -> [Double] {
        let (w1, b1, g, be, w2, b2) = (d.p[0], d.p[1], d.p[2], d.p[3], d.p[4], d.p[5])
        var h: [[Double]] = []
        for row in x {
            var out = b1
            for j in 0..<3 {
                for k in 0..<4 { out[j] += row[k] * w1[k * 3 + j] }
            }
            h.append(out)
        }
        let n = Double(x.count)
        return (0..<x.count).map { i in
            var l = b2[0]
            for j in 0..<3 {
                let mu: Double = h.map { $0[j] }.reduce(0, +) / n
                let v: Double = h.map { ($0[j] - mu) * ($0[j] - mu) }.reduce(0, +) / n
                let y = g[j] * (h[i][j] - mu) / (v + 1e-5).squareRoot() + be[j]
                l += (y > 0 ? y : 0.2 * y) * w2[j]
            }
            return l
        }
    }

    static func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-abs(x))) }

    /// BCE(D(real), 1) + BCE(D(fake), 0), each a batch mean, each batch normalised alone.
    static func separateLoss(_ real: [[Double]], _ fake: [[Double]], _ d: DParams) -> Double {
        let lr = logits(real, d), lf = logits(fake, d)
        return lr.map { softplus(-$0) }.reduce(0, +) / Double(lr.count)
            + lf.map { softplus($0) }.reduce(0, +) / Double(lf.count)
    }

    func testSeparatePassesMatchHandWrittenLossAndGradients() throws {
        var rng = Xoshiro256(seed: 11)
        let g = Sequential([Dense(inputSize: 2, outputSize: 4, rng: &rng)])
        let bn = BatchNorm(features: 3)
        bn.weight.value = Matrix(rows: 1, cols: 3, elements: [1.2, 0.7, -0.9])
        bn.bias.value = Matrix(rows: 1, cols: 3, elements: [0.1, -0.3, 0.2])
        let d = Sequential([Dense(inputSize: 4, outputSize: 3, rng: &rng), bn,
                            ActivationLayer(.leakyReLU(negativeSlope: 0.2)), Dense(inputSize: 3, outputSize: 1, rng: &rng)])
        let gan = try GAN(generator: g, discriminator: d, latentDim: 2, outputRange: -5...5)
        XCTAssertTrue(d.usesBatchStatistics)
        let t = GANTrainer(model: gan, loss: .nonSaturating,
                           generatorOptimizer: SGD(parameters: g.parameters, learningRate: 0.1),
                           discriminatorOptimizer: SGD(parameters: d.parameters, learningRate: 0.1),
                           rng: Xoshiro256(seed: 12))
        // The trainer's z and G(z), reproduced from a copy of its generator.
        var zRNG = t.rng
        var z = Matrix(rows: 5, cols: 2)
        z.withUnsafeMutableBufferPointer { zRNG.fillNormal($0) }
        let fake = gan.generate(z)
        let real = Matrix.uniform(rows: 5, cols: 4, low: -1, high: 1, using: &rng)
        let rows = { (m: Matrix) in (0..<m.rows).map { r in (0..<m.cols).map { Double(m[r, $0]) } } }
        let params = DParams(p: d.parameters.map { $0.value.elements.map(Double.init) })
        let losses = try t.step(real: real)

        let expected = Self.separateLoss(rows(real), rows(fake), params)
        XCTAssertEqual(Double(losses.discriminator), expected, accuracy: 1e-5 * max(1, abs(expected)))
        let realScore = Self.logits(rows(real), params).map { 1 / (1 + exp(-$0)) }.reduce(0, +) / 5
        XCTAssertEqual(Double(losses.realScore), realScore, accuracy: 1e-5)
        // The stacked pass (statistics over all 10 rows) gives a different loss: the test
        // would notice a trainer that stacked the batches.
        let stackedLogits = Self.logits(rows(real) + rows(fake), params)
        let stacked = stackedLogits.prefix(5).map { Self.softplus(-$0) }.reduce(0, +) / 5
            + stackedLogits.suffix(5).map { Self.softplus($0) }.reduce(0, +) / 5
        XCTAssertGreaterThan(abs(stacked - expected), 1e-3)
        // D's gradients (kept after the step: the G update runs D frozen) by central differences.
        for (k, p) in d.parameters.enumerated() {
            for i in 0..<p.value.count {
                var plus = params, minus = params
                plus.p[k][i] += 1e-6
                minus.p[k][i] -= 1e-6
                let fd = (Self.separateLoss(rows(real), rows(fake), plus) - Self.separateLoss(rows(real), rows(fake), minus)) / 2e-6
                XCTAssertEqual(Double(p.gradient.elements[i]), fd, accuracy: 1e-4 + 1e-3 * abs(fd), "\(p.name) [\(k)][\(i)]")
            }
        }
        // Running statistics updated by the real pass, the fake pass and G's pass, as PyTorch.
        XCTAssertEqual(bn.numBatchesTracked, 3)
    }
}
