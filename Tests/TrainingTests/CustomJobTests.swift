import Datasets
import Foundation
import Generative
import Linalg
import NN
import Training
import XCTest

/// A library user's own GAN through the library loop: `GANJob(model:config:)` and
/// `TrainingLoop(config:directory:data:job:)` / `resume(_:config:data:job:)`.
final class CustomJobTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("custom-job-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    /// 100 samples of 16 values in [0, 1] from a fixed formula.
    func data() -> Dataset {
        var m = Matrix(rows: 100, cols: 16)
        for i in 0..<100 { for j in 0..<16 { m[i, j] = Float((sin(Double(i) * 0.37 + Double(j) * 0.11) + 1) / 2) } }
        return Dataset(train: .floats(m), test: nil, source: "formula", imageShape: (4, 4))
    }

    /// G 3-8-6-16 (ReLU, a separate sigmoid layer, then `output`), D 16-5-1 (LeakyReLU 0.2).
    func customGAN(seed: UInt64, output: Activation = .tanh, range: ClosedRange<Float> = -1...1,
                   dataDim: Int = 16) throws -> GAN {
        var rng = Xoshiro256(seed: seed)
        let g = Sequential([Dense(inputSize: 3, outputSize: 8, activation: .relu, rng: &rng),
                            Dense(inputSize: 8, outputSize: 6, rng: &rng), ActivationLayer(.sigmoid),
                            Dense(inputSize: 6, outputSize: dataDim, activation: output, rng: &rng)])
        let d = Sequential([Dense(inputSize: dataDim, outputSize: 5, activation: .leakyReLU(negativeSlope: 0.2), rng: &rng),
                            Dense(inputSize: 5, outputSize: 1, rng: &rng)])
        return try GAN(generator: g, discriminator: d, latentDim: 3, outputRange: range)
    }

    func config(epochs: Int = 2) -> RunConfig {
        var c = RunConfig.gan(epochs: epochs, batchSize: 32, seed: 5)
        c.threads = 1
        c.logEvery = 3
        return c
    }

    /// Trains 2 epochs of 4 batches (100 = 3 x 32 + 4): 8 steps, checkpoints in nn.Sequential
    /// numbering of the custom layers (Dense+ReLU = modules 0-1, Dense 2, Sigmoid 3, Dense+tanh
    /// 4-5), and an interrupted run resumed with a fresh job ends with the same weights.
    func testCustomGANTrainsSavesAndResumesBitExactly() throws {
        let straight = tmp.appendingPathComponent("straight")
        let a = try TrainingLoop(config: config(), directory: straight, data: data(),
                                 job: GANJob(model: customGAN(seed: 1), config: config()))
        XCTAssertEqual(try a.run(), .completed)
        XCTAssertEqual(a.job.step, 8)
        let final = straight.appendingPathComponent("checkpoints/step-00000008")
        let g = try SafeTensors.read(from: final.appendingPathComponent("generator.safetensors"))
        XCTAssertEqual(g.shapes, ["0.weight": [8, 3], "0.bias": [8], "2.weight": [6, 8], "2.bias": [6],
                                  "4.weight": [16, 6], "4.bias": [16]])

        let broken = tmp.appendingPathComponent("broken")
        let first = try TrainingLoop(config: config(), directory: broken, data: data(),
                                     job: GANJob(model: customGAN(seed: 1), config: config()))
        var stop = TrainingCallbacks()
        stop.stopRequested = { [unowned first] in first.job.step == 6 }
        guard case .interrupted = try first.run(stop) else { return XCTFail("not interrupted") }
        // A fresh model of the same layers with other weights: the checkpoint replaces them.
        let resumed = try TrainingLoop.resume(broken, data: data(),
                                              job: GANJob(model: customGAN(seed: 77), config: config()))
        XCTAssertEqual([resumed.epoch, resumed.batchInEpoch, resumed.job.step], [2, 2, 6])
        XCTAssertEqual(try resumed.run(), .completed)
        for f in ["generator", "discriminator", "optimizer"] {
            XCTAssertEqual(try Data(contentsOf: final.appendingPathComponent("\(f).safetensors")),
                           try Data(contentsOf: broken.appendingPathComponent("checkpoints/step-00000008/\(f).safetensors")), f)
        }
    }

    /// `make` is `init(model:config:)` over `GAN(config:rng: Xoshiro256(seed))`: the two runs
    /// write the same bytes.
    func testJobOfTheConfigsMLPEqualsTheLoopsOwn() throws {
        var c = config(epochs: 1)
        c.gan!.latentDim = 4
        c.gan!.generatorHidden = [8]
        c.gan!.discriminatorHidden = [8]
        c.gan!.dataDim = 16
        var rng = Xoshiro256(seed: c.seed)
        let mine = try GANJob(model: GAN(config: c.gan!, rng: &rng), config: c)
        _ = try TrainingLoop(config: c, directory: tmp.appendingPathComponent("mine"), data: data(), job: mine).run()
        _ = try TrainingLoop(config: c, directory: tmp.appendingPathComponent("own"), data: data()).run()
        for f in ["generator", "discriminator", "optimizer"] {
            XCTAssertEqual(try Data(contentsOf: tmp.appendingPathComponent("mine/checkpoints/step-00000004/\(f).safetensors")),
                           try Data(contentsOf: tmp.appendingPathComponent("own/checkpoints/step-00000004/\(f).safetensors")), f)
        }
    }

    /// A model of the wrong width or kind is refused with one line, before anything is written.
    func testMismatchedJobIsRefusedBeforeWriting() throws {
        let dir = tmp.appendingPathComponent("refused")
        XCTAssertThrowsError(try TrainingLoop(config: config(), directory: dir, data: data(),
                                              job: GANJob(model: customGAN(seed: 1, dataDim: 9), config: config()))) {
            XCTAssertEqual("\($0)", "formula: samples have 16 values but the gan model takes 9")
        }
        var v = RunConfig.vae(epochs: 1)
        v.vae!.hidden = [4]
        v.vae!.latentDim = 2
        v.vae!.dataDim = 16
        let vaeJob = try VAEJob.make(config: v, data: data())
        XCTAssertThrowsError(try TrainingLoop(config: config(), directory: dir, data: data(), job: vaeJob)) {
            XCTAssertEqual("\($0)", "config: a gan run cannot train a vae model")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path))
        XCTAssertThrowsError(try GANJob(model: customGAN(seed: 1, range: -2...2), config: config())) {
            XCTAssertTrue("\($0)".contains("output range -2.0...2.0 is neither"), "\($0)")
        }
    }

    /// A sigmoid generator (range 0...1) trains on data scaled to [0, 1] and draws its sample
    /// sheet in that range; a tanh one on [-1, 1].
    func testScalingFollowsTheOutputRange() throws {
        let unit = try GANJob(model: customGAN(seed: 1, output: .sigmoid, range: 0...1), config: config())
        XCTAssertEqual(unit.scaling, .unit)
        XCTAssertEqual(unit.samples(data()).first?.range, 0...1)
        XCTAssertEqual(unit.dataDim, 16)
        let symmetric = try GANJob(model: customGAN(seed: 1), config: config())
        XCTAssertEqual(symmetric.scaling, .symmetric)
        XCTAssertEqual(symmetric.samples(data()).first?.range, -1...1)
    }

    /// `RunConfig.gan`/`.vae` carry `gen train`'s defaults and are valid as they are.
    func testFactoriesUseGenTrainDefaults() {
        let g = RunConfig.gan(epochs: 2)
        XCTAssertEqual(g.model, "gan")
        XCTAssertEqual(g.gan, .standard())
        XCTAssertNil(g.vae)
        XCTAssertEqual([g.epochs, g.batchSize, g.sampleEvery, g.logEvery, g.keepCheckpoints], [2, 128, 1, 100, 3])
        XCTAssertEqual(g.seed, 1)
        XCTAssertEqual(g.threads, min(BLASThreads.processors, 256))
        XCTAssertNil(g.data)
        XCTAssertNil(g.limit)
        XCTAssertNil(g.clipNorm)
        XCTAssertNil(g.problem)
        let v = RunConfig.vae(epochs: 3, batchSize: 7, seed: 9)
        XCTAssertEqual(v.model, "vae")
        XCTAssertNil(v.gan)
        XCTAssertEqual([v.epochs, v.batchSize], [3, 7])
        XCTAssertEqual(v.seed, 9)
        XCTAssertNil(v.problem)
    }
}
