import Datasets
import Foundation
import Generative
import Linalg
import Training
import XCTest

/// LoadedModel reads a run's checkpoint and samples in the model's range or in [0, 1]; the
/// jobs hand the quality hook an evaluator of their model.
final class LoadedModelTests: TemporaryDirectoryTestCase {

    func data() -> Dataset {
        var m = Matrix(rows: 40, cols: 16)
        for i in 0..<40 { for j in 0..<16 { m[i, j] = Float((sin(Double(i) * 0.37 + Double(j) * 0.11) + 1) / 2) } }
        return Dataset(train: .floats(m), test: .floats(m.rows(0..<8)), source: "formula", imageShape: (4, 4))
    }

    /// A one-epoch run of `model` with small networks; returns its loop.
    func run(_ model: String) throws -> TrainingLoop {
        var gan: GANConfig?, vae: VAEConfig?
        if model.hasPrefix("gan") {
            var g = GANConfig.standard()
            (g.latentDim, g.generatorHidden, g.discriminatorHidden) = (4, [8], [8])
            if model == "gan-ema" { g.emaDecay = 0.5 }
            gan = g
        } else {
            var v = VAEConfig()
            (v.hidden, v.latentDim) = ([8], 2)
            vae = v
        }
        let config = RunConfig(model: gan == nil ? model : "gan", gan: gan, vae: vae, epochs: 1, batchSize: 20, seed: 3, threads: 1,
                               data: nil, limit: nil, sampleEvery: 1000, logEvery: 100, keepCheckpoints: 1)
        let loop = try TrainingLoop(config: config, directory: tmp.appendingPathComponent(model), data: data())
        _ = try loop.run()
        return loop
    }

    /// The GAN's samples are tanh values; `unitSamples` is (x + 1) / 2 of the same draws.
    func testGANCheckpointSamplesInItsRangeAndInUnitRange() throws {
        let loop = try run("gan")
        let model = try LoadedModel.load(checkpoint: try XCTUnwrap(loop.directory.newestCheckpoint))
        XCTAssertEqual(model.kind, "gan")
        XCTAssertEqual(model.outputRange, -1...1)
        var a = Xoshiro256(seed: 8), b = Xoshiro256(seed: 8)
        let x = model.sample(count: 5, rng: &a), u = model.unitSamples(count: 5, rng: &b)
        XCTAssertEqual([u.rows, u.cols], [5, 16])
        for i in 0..<5 { for j in 0..<16 { XCTAssertEqual(u[i, j], (x[i, j] + 1) / 2, accuracy: 1e-7) } }
        // The loaded generator is the trained one: same noise, same images as the job's model.
        guard case .gan(let g) = model else { return XCTFail("not a gan") }
        let z = Matrix(rows: 1, cols: 4)
        XCTAssertEqual(g.generate(z), (loop.job as! GANJob).trainer.model.generate(z))
    }

    /// A run with a moving average of G's weights samples from the average, in the job as
    /// loaded from the checkpoint and through `GAN.save`/`load`; the trained weights differ.
    func testGANWithAverageSamplesFromTheAverage() throws {
        let loop = try run("gan-ema")
        let trained = (loop.job as! GANJob).trainer.model
        let z = Matrix(rows: 2, cols: 4, elements: [0.3, -1, 0.5, 2, -0.7, 0.1, 1.2, -0.4])
        XCTAssertNotEqual(trained.generate(z), trained.generator.forward(z, training: false))
        guard case .gan(let loaded) = try LoadedModel.load(checkpoint: try XCTUnwrap(loop.directory.newestCheckpoint)) else {
            return XCTFail("not a gan")
        }
        XCTAssertNil(loaded.generatorAverage, "the checkpoint's average is loaded as the generator")
        XCTAssertEqual(loaded.generate(z), trained.generate(z))
        try trained.save(to: tmp.appendingPathComponent("saved"))
        var rng = Xoshiro256(seed: 99)
        let copy = try GAN(config: XCTUnwrap(loop.config.gan), rng: &rng)
        copy.averageGenerator(decay: 0.5)
        try copy.load(from: tmp.appendingPathComponent("saved"))
        XCTAssertEqual(copy.generate(z), trained.generate(z))
        XCTAssertEqual(copy.generator.forward(z, training: false), trained.generator.forward(z, training: false))
    }

    /// A VAE's decoder means are already in [0, 1]: `unitSamples` equals `sample`.
    func testVAECheckpointSamplesInUnitRange() throws {
        let loop = try run("vae")
        let model = try LoadedModel.load(checkpoint: try XCTUnwrap(loop.directory.newestCheckpoint))
        XCTAssertEqual(model.kind, "vae")
        XCTAssertEqual(model.outputRange, 0...1)
        var a = Xoshiro256(seed: 8), b = Xoshiro256(seed: 8)
        XCTAssertEqual(model.sample(count: 3, rng: &a), model.unitSamples(count: 3, rng: &b))
    }

    func testCheckpointWithoutAGenerativeModelIsRefused() throws {
        let dir = tmp.appendingPathComponent("ckpt")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var c = ClassifierConfig()
        c.hidden = [4]
        let config = RunConfig(model: "classifier", gan: nil, vae: nil, epochs: 1, batchSize: 1, seed: 1, threads: 1,
                               data: nil, limit: nil, sampleEvery: 1, logEvery: 1, keepCheckpoints: 1, classifier: c)
        try config.encoded().write(to: dir.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try LoadedModel.load(checkpoint: dir)) { e in
            XCTAssertTrue("\(e)".contains("config.json: names no generative model (classifier)"), "\(e)")
        }
    }

    /// The jobs' evaluators score samples in the model's own range; only the VAE has a bound.
    func testJobsGiveTheQualityEvaluatorOfTheirModel() throws {
        var rng = Xoshiro256(seed: 0)
        let ref = try FIDReference(classifier: MNISTClassifier(inputSize: 16, hidden: [4], rng: &rng),
                                   testImages: Matrix(rows: 4, cols: 16))
        let gan = try XCTUnwrap(try run("gan").job.qualityEvaluator(reference: ref, seed: 2))
        XCTAssertEqual(gan.outputRange, -1...1)
        XCTAssertFalse(gan.hasBound)
        let vae = try XCTUnwrap(try run("vae").job.qualityEvaluator(reference: ref, seed: 2))
        XCTAssertEqual(vae.outputRange, 0...1)
        XCTAssertTrue(vae.hasBound)
        XCTAssertEqual([vae.iwaeImages] + vae.iwaeK, [500, 1, 64])
    }
}
