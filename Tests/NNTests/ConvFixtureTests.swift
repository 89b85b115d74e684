import Foundation
import XCTest
import Linalg
@testable import NN

/// Conv2d, ConvTranspose2d and BatchNorm against PyTorch (Tests/NNTests/Fixtures/conv_reference.json,
/// written by scripts/conv_reference.py from float32 inputs, computed in float64). Parameters are
/// loaded through `loadStateDict` in PyTorch's own layouts, so the tests also pin the weight
/// layouts. Tolerance 1e-5 relative + 1e-5 absolute (2e-5 for dW/db, sums over a whole batch).
final class ConvFixtureTests: XCTestCase {
    struct Fixture: Decodable {
        struct Conv: Decodable {
            let `in`: Int, out: Int, kernel: Int, stride: Int, padding: Int, height: Int, width: Int, batch: Int
            let outputPadding: Int?
            let bias: Bool
            let x: [Double], weight: [Double], biasValue: [Double], gradOutput: [Double]
            let y: [Double], dx: [Double], dweight: [Double], dbias: [Double]
        }
        struct Norm: Decodable {
            let channels: Int, batch: Int, height: Int, width: Int, oneD: Bool
            let weight: [Double], bias: [Double], x: [Double], gradOutput: [Double]
            let y: [Double], dx: [Double], dweight: [Double], dbias: [Double]
            let runningMean1: [Double], runningVar1: [Double]
            let x2: [Double], xEval: [Double], yEval: [Double]
            let runningMean: [Double], runningVar: [Double], numBatchesTracked: Int
        }
        struct StateDict: Decodable {
            let loadResult: String, keys: [String], fileDtypes: [String: String]
            let numBatchesTracked: Int, numBatchesTrackedDtype: String
            let x: [Double], yEval: [Double]
        }
        let torchVersion: String
        let conv2d: [Conv], convTranspose: [Conv], batchnorm: [Norm]
        let stateDict: StateDict?
    }

    static func loadFixture() throws -> Fixture {
        let url = ConvStateDictTests.fixtures.appendingPathComponent("conv_reference.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Fixture.self, from: Data(contentsOf: url))
    }

    static func matrix(_ v: [Double], rows: Int) -> Matrix {
        Matrix(rows: rows, cols: v.count / rows, elements: v.map(Float.init))
    }

    /// Loads the case's weights, runs forward and backward, compares with torch.
    func check(_ c: Fixture.Conv, _ layer: any Layer, _ what: String) throws {
        var tensors = ["weight": Self.matrix(c.weight, rows: layer.stateEntries[0].shape[0])]
        if c.bias { tensors["bias"] = Self.matrix(c.biasValue, rows: 1) }
        try layer.loadStateDict(tensors)
        let y = layer.forward(Self.matrix(c.x, rows: c.batch), training: true)
        let dx = layer.backward(Self.matrix(c.gradOutput, rows: c.batch))
        assertClose(doubles(y), c.y, atol: 1e-5, rtol: 1e-5, "\(what) y")
        assertClose(doubles(dx), c.dx, atol: 1e-5, rtol: 1e-5, "\(what) dx")
        assertClose(doubles(layer.parameters[0].gradient), c.dweight, atol: 2e-5, rtol: 1e-5, "\(what) dweight")
        if c.bias { assertClose(doubles(layer.parameters[1].gradient), c.dbias, atol: 2e-5, rtol: 1e-5, "\(what) dbias") }
    }

    func testConvLayersMatchTorch() throws {
        let f = try Self.loadFixture()
        XCTAssertEqual(f.conv2d.count, 6)
        XCTAssertEqual(f.convTranspose.count, 6)
        var rng = Xoshiro256(seed: 0)
        for c in f.conv2d {
            let layer = Conv2d(inChannels: c.in, outChannels: c.out, kernel: c.kernel, stride: c.stride, padding: c.padding,
                               bias: c.bias, inputHeight: c.height, inputWidth: c.width, rng: &rng)
            try check(c, layer, "Conv2d \(c.in)->\(c.out) k\(c.kernel) s\(c.stride) p\(c.padding) \(c.height)x\(c.width)")
        }
        for c in f.convTranspose {
            let layer = ConvTranspose2d(inChannels: c.in, outChannels: c.out, kernel: c.kernel, stride: c.stride,
                                        padding: c.padding, outputPadding: c.outputPadding ?? 0, bias: c.bias,
                                        inputHeight: c.height, inputWidth: c.width, rng: &rng)
            try check(c, layer, "ConvTranspose2d \(c.in)->\(c.out) k\(c.kernel) s\(c.stride) p\(c.padding) op\(c.outputPadding ?? 0)")
        }
    }

    /// Train step (output, gradients, running statistics), a second train batch, then eval.
    func testBatchNormMatchesTorch() throws {
        for c in try Self.loadFixture().batchnorm {
            let bn = c.oneD ? BatchNorm1d(features: c.channels) : BatchNorm2d(channels: c.channels, height: c.height, width: c.width)
            let what = c.oneD ? "BatchNorm1d" : "BatchNorm2d"
            try bn.loadStateDict(["weight": Self.matrix(c.weight, rows: 1), "bias": Self.matrix(c.bias, rows: 1),
                                  "running_mean": Matrix(rows: 1, cols: c.channels),
                                  "running_var": Matrix(rows: 1, cols: c.channels, repeating: 1),
                                  "num_batches_tracked": Matrix(rows: 1, cols: 1)])
            let y = bn.forward(Self.matrix(c.x, rows: c.batch), training: true)
            let dx = bn.backward(Self.matrix(c.gradOutput, rows: c.batch))
            assertClose(doubles(y), c.y, atol: 1e-5, rtol: 1e-5, "\(what) y")
            assertClose(doubles(dx), c.dx, atol: 1e-5, rtol: 1e-5, "\(what) dx")
            assertClose(doubles(bn.weight.gradient), c.dweight, atol: 2e-5, rtol: 1e-5, "\(what) dweight")
            assertClose(doubles(bn.bias.gradient), c.dbias, atol: 2e-5, rtol: 1e-5, "\(what) dbias")
            assertClose(doubles(bn.runningMean), c.runningMean1, atol: 1e-6, rtol: 1e-5, "\(what) running_mean after 1")
            assertClose(doubles(bn.runningVar), c.runningVar1, atol: 1e-6, rtol: 1e-5, "\(what) running_var after 1")
            _ = bn.forward(Self.matrix(c.x2, rows: c.batch), training: true)
            let yEval = bn.forward(Self.matrix(c.xEval, rows: c.batch), training: false)
            assertClose(doubles(yEval), c.yEval, atol: 1e-5, rtol: 1e-5, "\(what) eval y")
            assertClose(doubles(bn.runningMean), c.runningMean, atol: 1e-6, rtol: 1e-5, "\(what) running_mean")
            assertClose(doubles(bn.runningVar), c.runningVar, atol: 1e-6, rtol: 1e-5, "\(what) running_var")
            XCTAssertEqual(bn.numBatchesTracked, c.numBatchesTracked)
        }
    }
}
