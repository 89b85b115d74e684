import Foundation
import XCTest
import Linalg
@testable import NN

/// Our SafeTensors file of `Sequential(Conv2d, BatchNorm2d, LeakyReLU, ConvTranspose2d)` loads in
/// PyTorch: Tests/NNTests/Fixtures/conv_state_dict.safetensors is what this test writes (the
/// bytes must not change), and scripts/conv_reference.py loaded that file into the equivalent
/// `nn.Sequential` with `load_state_dict(strict=True)`, recording its message and the loaded
/// model's eval output on a fixed input (float64) in conv_reference.json.
/// `CONV_FIXTURE_RECORD=1 swift test --filter ConvStateDictTests` rewrites the .safetensors.
final class ConvStateDictTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Seeded weights, and random BatchNorm affine parameters and buffers set through the state
    /// entries (so every tensor, num_batches_tracked = 3 included, is non-trivial, and the file
    /// depends on the initialisers and the writer only, not on BatchNorm's arithmetic).
    static func model() -> Sequential {
        var rng = Xoshiro256(seed: 2024)
        let bn = BatchNorm2d(channels: 4, height: 4, width: 4)
        let net = Sequential([
            Conv2d(inChannels: 2, outChannels: 4, kernel: 4, stride: 2, padding: 1, inputHeight: 8, inputWidth: 8, rng: &rng),
            bn,
            ActivationLayer(.leakyReLU(negativeSlope: 0.2)),
            ConvTranspose2d(inChannels: 4, outChannels: 2, kernel: 4, stride: 2, padding: 1, inputHeight: 4, inputWidth: 4, rng: &rng),
        ])
        bn.weight.value = .uniform(rows: 1, cols: 4, low: 0.5, high: 1.5, using: &rng)
        bn.bias.value = .uniform(rows: 1, cols: 4, low: -0.5, high: 0.5, using: &rng)
        let buffers = Dictionary(uniqueKeysWithValues: bn.stateEntries.map { ($0.name, $0) })
        buffers["running_mean"]!.write(.uniform(rows: 1, cols: 4, low: -0.5, high: 0.5, using: &rng))
        buffers["running_var"]!.write(.uniform(rows: 1, cols: 4, low: 0.5, high: 2, using: &rng))
        buffers["num_batches_tracked"]!.write(Matrix(rows: 1, cols: 1, repeating: 3))
        return net
    }

    static func write(_ net: Sequential, to url: URL) throws {
        try SafeTensors.write(net.stateDict(), metadata: ["format": "pt"], to: url, shapes: net.stateDictShapes())
    }

    func testWriterProducesTheFileTorchLoaded() throws {
        let committed = Self.fixtures.appendingPathComponent("conv_state_dict.safetensors")
        if ProcessInfo.processInfo.environment["CONV_FIXTURE_RECORD"] == "1" { try Self.write(Self.model(), to: committed) }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("conv-state-\(getpid()).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Self.write(Self.model(), to: url)
        XCTAssertEqual(try Data(contentsOf: url), try Data(contentsOf: committed),
                       "our writer's bytes differ from the file torch loaded (re-record and rerun scripts/conv_reference.py)")
        // Our reader gives it back: shape [] for num_batches_tracked, same eval outputs.
        let file = try SafeTensors.read(from: committed)
        XCTAssertEqual(file.shapes["1.num_batches_tracked"], [])
        XCTAssertEqual(file.shapes["0.weight"], [4, 2, 4, 4])
        XCTAssertEqual(file.shapes["3.weight"], [4, 2, 4, 4])
        var scratch = Xoshiro256(seed: 0)
        let fresh = Sequential([
            Conv2d(inChannels: 2, outChannels: 4, kernel: 4, stride: 2, padding: 1, inputHeight: 8, inputWidth: 8, rng: &scratch),
            BatchNorm2d(channels: 4, height: 4, width: 4), ActivationLayer(.leakyReLU(negativeSlope: 0.2)),
            ConvTranspose2d(inChannels: 4, outChannels: 2, kernel: 4, stride: 2, padding: 1, inputHeight: 4, inputWidth: 4, rng: &scratch),
        ])
        try fresh.loadStateDict(file.tensors)
        let x = randomMatrix(3, 128, seed: 1)
        XCTAssertEqual(fresh.forward(x, training: false), Self.model().forward(x, training: false))
        XCTAssertEqual((fresh.layers[1] as! BatchNorm).numBatchesTracked, 3)
    }

    func testTorchLoadedOurFileWithAllKeysMatched() throws {
        let f = try ConvFixtureTests.loadFixture()
        guard let sd = f.stateDict else { return XCTFail("conv_reference.json has no state_dict check") }
        XCTAssertEqual(sd.loadResult, "<All keys matched successfully>")
        let net = Self.model()
        XCTAssertEqual(sd.keys, net.stateEntries.map(\.name))
        XCTAssertEqual(sd.numBatchesTracked, 3)
        XCTAssertEqual(sd.numBatchesTrackedDtype, "torch.int64", "torch keeps its int64 buffer (copy_ converts our F32)")
        let x = Matrix(rows: 3, cols: 128, elements: sd.x.map(Float.init))
        assertClose(doubles(net.forward(x, training: false)), sd.yEval, atol: 1e-5, rtol: 1e-5, "eval output vs torch")
    }
}
