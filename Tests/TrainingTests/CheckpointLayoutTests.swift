import Foundation
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
}
