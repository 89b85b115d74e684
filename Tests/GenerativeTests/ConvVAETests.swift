import Foundation
import Linalg
import NN
import XCTest
@testable import Generative

final class ConvVAETests: XCTestCase {
    /// The default conv VAE's state dict: nn.Sequential names and PyTorch shapes.
    func testStateDictNamesAndShapes() throws {
        var rng = Xoshiro256(seed: 1)
        let vae = try VAE(config: .conv(), rng: &rng)
        let expected: [(String, [Int])] = [
            ("encoder.0.weight", [32, 1, 4, 4]), ("encoder.0.bias", [32]),
            ("encoder.2.weight", [64, 32, 4, 4]), ("encoder.2.bias", [64]),
            ("mu.0.weight", [20, 3136]), ("mu.0.bias", [20]),
            ("logvar.0.weight", [20, 3136]), ("logvar.0.bias", [20]),
            ("decoder.0.weight", [3136, 20]), ("decoder.0.bias", [3136]),
            ("decoder.3.weight", [64, 32, 4, 4]), ("decoder.3.bias", [32]),
            ("decoder.5.weight", [32, 1, 4, 4]), ("decoder.5.bias", [1]),
        ]
        XCTAssertEqual(vae.stateEntries.map(\.name), expected.map(\.0))
        XCTAssertEqual(vae.stateEntries.map(\.shape), expected.map(\.1))
        XCTAssertEqual(vae.latentDim, 20)
        let s = vae.sample(count: 3, rng: &rng)
        XCTAssertEqual([s.rows, s.cols], [3, 784])
        var bad = VAEConfig.conv()
        bad.hidden = [8, 8, 8]
        XCTAssertThrowsError(try VAE(config: bad, rng: &rng)) { XCTAssertTrue("\($0)".contains("two channel counts")) }
        XCTAssertThrowsError(try VAE.mlp(.conv(), rng: &rng))
    }

    /// Parameters' gradients of the negative ELBO (one fixed eps draw) on one MNIST image,
    /// against central differences of the Float loss, on a tiny config (channels 2 and 3,
    /// latent 2), up to 12 elements per tensor. h = 1e-3 with a tolerance of 0.04 + 3%: the
    /// loss (~270 nats) is resolved to ~3e-5 in Float (so ~0.015 in the difference quotient),
    /// and ReLU kinks within h of a shifted pre-activation bend the quotient (a bias shifts a
    /// whole channel: on training image 10 one decoder bias read 0.48 at h = 1e-2 and 0.52 at
    /// 1e-3 against 0.567 analytic; on image 3, used here, every checked element agrees).
    func testELBOGradientsByFiniteDifferences() throws {
        var config = VAEConfig.conv()
        config.hidden = [2, 3]
        config.latentDim = 2
        var rng = Xoshiro256(seed: 3)
        let vae = try VAE(config: config, rng: &rng)
        let x = mnistBatch(3, 1, .unit)
        let epsRNG = Xoshiro256(seed: 8)
        func loss() -> Double {
            var r = epsRNG
            return Double(vae.negativeELBO(x, training: true, rng: &r).negativeELBO)
        }
        _ = loss()
        vae.backwardNegativeELBO()
        let h: Float = 1e-3
        var checked = 0
        for (k, p) in vae.parameters.enumerated() {
            let analytic = p.gradient.elements
            // Up to 12 elements per tensor, spread over it.
            let stride = max(1, p.value.count / 12)
            for i in Swift.stride(from: 0, to: p.value.count, by: stride) {
                let r = i / p.value.cols, c = i % p.value.cols
                let v = p.value[r, c]
                p.value[r, c] = v + h
                let up = loss()
                p.value[r, c] = v - h
                let down = loss()
                p.value[r, c] = v
                let fd = (up - down) / Double(2 * h)
                XCTAssertEqual(Double(analytic[i]), fd, accuracy: 0.04 + 0.03 * abs(fd), "parameter \(k) \(p.name)[\(i)] h \(h)")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 100)
    }

    /// A few Adam steps on one batch lower the negative ELBO (from about 544 nats, 784 ln 2).
    func testStepsReduceNegativeELBO() throws {
        var config = VAEConfig.conv()
        config.hidden = [8, 16]
        var rng = Xoshiro256(seed: 5)
        let t = VAETrainer(model: try VAE(config: config, rng: &rng), config: config, rng: Xoshiro256(seed: 6))
        let x = mnistBatch(0, 32, .unit)
        let first = try t.step(batch: x).negativeELBO
        var last = first
        for _ in 0..<30 { last = try t.step(batch: x).negativeELBO }
        XCTAssertEqual(Double(first), 784 * log(2), accuracy: 60)
        XCTAssertLessThan(last, first - 50, "first \(first), after 30 steps \(last)")
    }
}
