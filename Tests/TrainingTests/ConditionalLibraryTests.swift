import Datasets
import Foundation
import Generative
import Linalg
import Training
import XCTest

/// The README's library example of conditional generation, on 512 MNIST images for one epoch:
/// the same calls, smaller numbers; and a conditional run resumes bit-identically.
final class ConditionalLibraryTests: TemporaryDirectoryTestCase {
    func testREADMEConditionalExample() throws {
        let data = try Dataset.load(path: nil, limit: 512)
        XCTAssertEqual(data.numClasses, 10)
        var gc = GANConfig.standard()
        gc.numClasses = data.numClasses
        let config = RunConfig(model: "gan", gan: gc, vae: nil, epochs: 1, batchSize: 128, seed: 1, threads: 2,
                               data: nil, limit: nil, sampleEvery: 1, logEvery: 100, keepCheckpoints: 3)
        let loop = try TrainingLoop(config: config, directory: tmp.appendingPathComponent("cgan"), data: data)
        _ = try loop.run()
        let gan = (loop.job as! GANJob).trainer.model
        var rng = Xoshiro256(seed: 1)
        let sevens = gan.sample(count: 64, labels: [Int32](repeating: 7, count: 64), rng: &rng)
        XCTAssertEqual([sevens.rows, sevens.cols], [64, 784])
        let reference = try FIDReference(testImages: MNIST.load(.test, from: MNIST.defaultDirectory()!))
        let labels = cyclingLabels(count: 200, classes: 10)
        let x = gan.sample(count: 200, labels: labels, rng: &rng).mappingRange(from: -1...1, to: 0...1)
        let scores = try reference.conditionalScores(samples: x, labels: labels, classes: 10)
        XCTAssertEqual(scores.samplesPerClass, 20)
        XCTAssertTrue((0...1).contains(scores.labelAccuracy))
        let config2 = try RunConfig.read(runDirectory: tmp.appendingPathComponent("cgan"))
        XCTAssertEqual(config2.gan?.numClasses, 10, "config.json records the classes")
    }

    /// Interrupted after 3 steps and resumed, a conditional VAE on labelled floats ends with the
    /// same weights as an uninterrupted run (labels reloaded from the label file).
    func testConditionalRunResumesBitIdentically() throws {
        var m = Matrix(rows: 30, cols: 6)
        for i in 0..<30 { for j in 0..<6 { m[i, j] = Float((i * 5 + j * 3) % 11) / 10 } }
        let x = tmp.appendingPathComponent("x.npy"), y = tmp.appendingPathComponent("y.npy")
        try NPY.write(m, to: x)
        try NPY.write(Matrix(rows: 30, cols: 1, elements: (0..<30).map { Float($0 % 3) }), to: y)
        var v = VAEConfig.conditional(classes: 3)
        (v.hidden, v.latentDim) = ([8], 2)
        var config = RunConfig(model: "vae", gan: nil, vae: v, epochs: 2, batchSize: 8, seed: 4, threads: 1,
                               data: x.path, limit: nil, sampleEvery: 1000, logEvery: 1000, keepCheckpoints: 2)
        config.labels = y.path
        let whole = try TrainingLoop(config: config, directory: tmp.appendingPathComponent("whole"))
        _ = try whole.run()
        let parted = try TrainingLoop(config: config, directory: tmp.appendingPathComponent("parted"))
        var callbacks = TrainingCallbacks()
        callbacks.stopRequested = { parted.job.step >= 3 }
        guard case .interrupted = try parted.run(callbacks) else { return XCTFail("the first part should stop after 3 steps") }
        XCTAssertLessThan(parted.job.step, 8, "stopped in the first epoch (4 steps per epoch)")
        let resumed = try TrainingLoop.resume(tmp.appendingPathComponent("parted"))
        _ = try resumed.run()
        let a = (whole.job as! VAEJob).trainer.model.stateDict(), b = (resumed.job as! VAEJob).trainer.model.stateDict()
        XCTAssertEqual(a.map(\.name), b.map(\.name))
        XCTAssertTrue(a.map(\.name).contains("prior_mu.0.weight"))
        for (p, q) in zip(a, b) { XCTAssertEqual(p.tensor, q.tensor, p.name) }
    }
}
