import Foundation
import Linalg
import NN
import XCTest
@testable import Generative

final class DCGANTests: XCTestCase {
    private func names(_ net: any Layer) -> [String] { net.stateEntries.map(\.name) }
    private func shapes(_ net: any Layer) -> [[Int]] { net.stateEntries.map(\.shape) }

    /// The default DCGAN: the state dict of the equivalent nn.Sequential (G: Linear, Unflatten,
    /// BatchNorm2d, ReLU, ConvTranspose2d, BatchNorm2d, ReLU, ConvTranspose2d, Tanh; D: Conv2d,
    /// LeakyReLU, Conv2d, BatchNorm2d, LeakyReLU, Flatten, Linear), PyTorch's shapes, and
    /// samples of 784 values in [-1, 1].
    func testDefaultShapesAndStateDictNames() throws {
        var rng = Xoshiro256(seed: 1)
        let gan = try GAN(config: .dcgan(), rng: &rng)
        let bn = { (i: Int, c: Int) -> [(String, [Int])] in
            [("\(i).weight", [c]), ("\(i).bias", [c]), ("\(i).running_mean", [c]),
             ("\(i).running_var", [c]), ("\(i).num_batches_tracked", [])]
        }
        let g: [(String, [Int])] = [("0.weight", [6272, 100]), ("0.bias", [6272])] + bn(2, 128)
            + [("4.weight", [128, 64, 4, 4]), ("4.bias", [64])] + bn(5, 64)
            + [("7.weight", [64, 1, 4, 4]), ("7.bias", [1])]
        let d: [(String, [Int])] = [("0.weight", [64, 1, 4, 4]), ("0.bias", [64]),
                                    ("2.weight", [128, 64, 4, 4]), ("2.bias", [128])] + bn(3, 128)
            + [("6.weight", [1, 6272]), ("6.bias", [1])]
        XCTAssertEqual(names(gan.generator), g.map(\.0))
        XCTAssertEqual(shapes(gan.generator), g.map(\.1))
        XCTAssertEqual(names(gan.discriminator), d.map(\.0))
        XCTAssertEqual(shapes(gan.discriminator), d.map(\.1))
        XCTAssertEqual(gan.dataDim, 784)
        XCTAssertTrue(gan.discriminator.usesBatchStatistics)
        XCTAssertFalse(try GAN(config: .standard(), rng: &rng).discriminator.usesBatchStatistics)
        let s = gan.sample(count: 5, rng: &rng)
        XCTAssertEqual([s.rows, s.cols], [5, 784])
        XCTAssertTrue(s.elements.allSatisfy { $0 >= -1 && $0 <= 1 })
        // Radford et al.'s initialisation: N(0, 0.02) weights, zero biases, γ near 1.
        let w = (gan.discriminator as! Sequential).layers[2] as! Conv2d
        let std = (w.weight.value.elements.map { Double($0 * $0) }.reduce(0, +) / Double(w.weight.value.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.001)
        XCTAssertTrue(w.bias!.value.elements.allSatisfy { $0 == 0 })
    }

    /// Bad DCGAN settings are refused with a message naming the setting.
    func testRefusesBadSettings() {
        var rng = Xoshiro256(seed: 1)
        var c = GANConfig.dcgan()
        c.dataDim = 100
        XCTAssertThrowsError(try GAN(config: c, rng: &rng)) { XCTAssertTrue("\($0)".contains("28x28")) }
        c = .dcgan()
        c.generatorHidden = [8]
        XCTAssertThrowsError(try GAN(config: c, rng: &rng)) { XCTAssertTrue("\($0)".contains("two channel counts")) }
        c = .dcgan()
        c.loss = .wasserstein
        c.gradientPenalty = 10
        XCTAssertThrowsError(try GAN(config: c, rng: &rng)) { XCTAssertTrue("\($0)".contains("BatchNorm")) }
        XCTAssertThrowsError(try GAN.mlp(.dcgan(), rng: &rng))
    }

    /// Configurations written before `arch` existed decode as MLPs, the MLP configurations
    /// encode without the key (their config.json is unchanged), and a DCGAN's round-trips.
    func testArchitectureDecoding() throws {
        let old = try JSONEncoder().encode(GANConfig.standard())
        XCTAssertFalse(String(decoding: old, as: UTF8.self).contains("arch"))
        XCTAssertEqual(try JSONDecoder().decode(GANConfig.self, from: old).architecture, .mlp)
        let dc = try JSONDecoder().decode(GANConfig.self, from: try JSONEncoder().encode(GANConfig.dcgan()))
        XCTAssertEqual(dc, .dcgan())
        XCTAssertEqual(dc.architecture, .dcgan)
        let vOld = try JSONEncoder().encode(VAEConfig())
        XCTAssertFalse(String(decoding: vOld, as: UTF8.self).contains("arch"))
        XCTAssertEqual(try JSONDecoder().decode(VAEConfig.self, from: vOld).architecture, .mlp)
        XCTAssertEqual(try JSONDecoder().decode(VAEConfig.self, from: try JSONEncoder().encode(VAEConfig.conv())), .conv())
        let bad = Data(#"{"arch":"resnet","latentDim":100,"dataDim":784,"generatorHidden":[1],"discriminatorHidden":[1],"negativeSlope":0.2,"loss":"minimax","optimizer":"adam","learningRate":0.001,"beta1":0.5,"beta2":0.9,"criticSteps":1,"clipValue":0.01}"#.utf8)
        XCTAssertThrowsError(try JSONDecoder().decode(GANConfig.self, from: bad))
    }

    /// D-only steps (the generator updates every 1000th step) on real MNIST batches lower D's
    /// loss from about 2 ln 2, and every loss stays finite.
    func testDiscriminatorStepsReduceItsLoss() throws {
        var c = GANConfig.dcgan()
        c.generatorHidden = [16, 8]
        c.discriminatorHidden = [8, 16]
        c.criticSteps = 1000
        var rng = Xoshiro256(seed: 4)
        let t = try GANTrainer(model: try GAN(config: c, rng: &rng), config: c, rng: Xoshiro256(seed: 5))
        var losses: [Float] = []
        for s in 0..<12 { losses.append(try t.step(real: mnistBatch(32 * s, 32, .symmetric)).discriminator) }
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
        XCTAssertEqual(Double(losses[0]), 2 * log(2), accuracy: 0.35)
        XCTAssertLessThan(losses.suffix(3).reduce(0, +) / 3, losses[0] * 0.7, "\(losses)")
    }

    /// PyTorch's files load here: torch's state dicts of a small DCGAN (scripts/dcgan_reference.py
    /// fixture: num_batches_tracked stored as int64, running statistics moved by three
    /// training forwards) load with `GAN.load(from:)`, and the eval-mode outputs G(z) and D(x)
    /// match torch's float64 results to 1e-5 relative.
    func testLoadsPyTorchStateDicts() throws {
        let dir = packageRoot.appendingPathComponent("Tests/GenerativeTests/Fixtures/dcgan_torch")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("expected.json"))) as! [String: Any]
        let doubles = { (k: String) in (json[k] as! [Any]).map { ($0 as! NSNumber).doubleValue } }
        var c = GANConfig.dcgan()
        c.latentDim = 3
        c.generatorHidden = [4, 2]
        c.discriminatorHidden = [2, 4]
        var rng = Xoshiro256(seed: 1)
        let gan = try GAN(config: c, rng: &rng)
        try gan.load(from: dir)
        let bn = (gan.generator as! Sequential).layers[2] as! BatchNorm
        XCTAssertEqual(bn.numBatchesTracked, json["num_batches_tracked"] as? Int)
        let z = Matrix(rows: 4, cols: 3, elements: doubles("z").map(Float.init))
        let x = Matrix(rows: 3, cols: 784, elements: doubles("x").map(Float.init))
        let pairs = [(gan.generate(z).elements, doubles("g_z")),
                     (gan.discriminator.forward(x, training: false).elements, doubles("d_x"))]
        for (got, want) in pairs {
            XCTAssertEqual(got.count, want.count)
            for (a, b) in zip(got, want) { XCTAssertEqual(Double(a), b, accuracy: 1e-5 * max(1, abs(b))) }
        }
    }
}
