import Foundation
import Datasets
import Generative
import Linalg
import NN
import Training
import XCTest

/// Checkpoint files use PyTorch's layouts, so `nn.Sequential.load_state_dict` accepts them:
/// Linear weights `out x in`, biases 1-D `[out]` (checked by hand with torch 2.13 for the
/// default GAN: "All keys matched successfully").
final class CheckpointLayoutTests: XCTestCase {
    func testGeneratorFileHasPyTorchShapes() throws {
        var rng = Xoshiro256(seed: 1)
        let gan = try GAN(config: .standard(), rng: &rng)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = TrainingState(model: "gan", epoch: 0, batchInEpoch: 0, step: 0,
                                  noiseRNG: [1, 2, 3, 4], dataRNG: [5, 6, 7, 8], optimizerSteps: [:])
        try Checkpoint.write(files: [("generator", gan.generator.stateDict())], config: Data("{}".utf8),
                             state: state, to: dir.appendingPathComponent("step-00000000"))
        let file = try SafeTensors.read(from: dir.appendingPathComponent("step-00000000/generator.safetensors"))
        XCTAssertEqual(file.shapes["0.weight"], [128, 100])
        XCTAssertEqual(file.shapes["0.bias"], [128])
        XCTAssertEqual(file.shapes["2.weight"], [784, 128])
        XCTAssertEqual(file.shapes["2.bias"], [784])
        // Read back as matrices they load into an identical model.
        var rng2 = Xoshiro256(seed: 2)
        let other = try GAN(config: .standard(), rng: &rng2)
        try other.generator.loadStateDict(file.tensors)
        XCTAssertEqual(other.generator.parameters.map(\.value), gan.generator.parameters.map(\.value))
    }

    /// A DCGAN run's checkpoint (through `GANJob.checkpointShapes`): conv weights 4-D
    /// `[out, in, kh, kw]` (ConvTranspose `[in, out, kh, kw]`), BatchNorm buffers 1-D and
    /// `num_batches_tracked` 0-D, as torch's `load_state_dict` needs (checked with torch 2.13:
    /// "All keys matched successfully", scripts/dcgan_reference.py check); read back, they load.
    func testDCGANCheckpointHasPyTorchShapes() throws {
        var config = RunConfig(model: "gan", gan: .dcgan(), vae: nil, epochs: 1, batchSize: 8, seed: 1, threads: 1,
                               data: nil, limit: nil, sampleEvery: 1, logEvery: 1, keepCheckpoints: 1, clipNorm: nil)
        config.gan!.generatorHidden = [8, 4]
        config.gan!.discriminatorHidden = [4, 8]
        let job = try GANJob.make(config: config, data: Dataset(train: .floats(Matrix(rows: 1, cols: 784)), test: nil, source: "test", imageShape: (28, 28)))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let state = job.trainingState(epoch: 0, dataRNG: Xoshiro256(seed: 1), batchInEpoch: 0)
        try Checkpoint.write(files: job.checkpointFiles(), config: Data("{}".utf8), state: state,
                             to: dir.appendingPathComponent("step-00000000"), shapes: job.checkpointShapes)
        let g = try SafeTensors.read(from: dir.appendingPathComponent("step-00000000/generator.safetensors"))
        let d = try SafeTensors.read(from: dir.appendingPathComponent("step-00000000/discriminator.safetensors"))
        XCTAssertEqual(g.shapes["0.weight"], [392, 100])
        XCTAssertEqual(g.shapes["2.running_var"], [8])
        XCTAssertEqual(g.shapes["2.num_batches_tracked"], [Int]())
        XCTAssertEqual(g.shapes["4.weight"], [8, 4, 4, 4])
        XCTAssertEqual(g.shapes["7.weight"], [4, 1, 4, 4])
        XCTAssertEqual(d.shapes["0.weight"], [4, 1, 4, 4])
        XCTAssertEqual(d.shapes["6.weight"], [1, 392])
        try job.trainer.model.discriminator.loadStateDict(d.tensors)
        try job.trainer.model.generator.loadStateDict(g.tensors)
    }
}
