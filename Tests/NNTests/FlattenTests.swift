import Foundation
import XCTest
import Linalg
@testable import NN

final class FlattenTests: XCTestCase {
    /// Identity on rows in both directions; Unflatten checks the size.
    func testFlattenAndUnflattenAreIdentityOnRows() {
        let x = randomMatrix(3, 12, seed: 1), g = randomMatrix(3, 12, seed: 2)
        for layer in [Flatten() as any Layer, Unflatten(channels: 3, height: 2, width: 2)] {
            XCTAssertEqual(layer.forward(x, training: true), x)
            XCTAssertEqual(layer.backward(g), g)
            layer.computesInputGradient = false
            XCTAssertEqual(layer.backward(g), .empty)
            XCTAssertTrue(layer.parameters.isEmpty && layer.stateEntries.isEmpty)
        }
        XCTAssertEqual(Unflatten(channels: 3, height: 2, width: 2).outputFeatures(for: 12), 12)
        XCTAssertNil(Unflatten(channels: 3, height: 2, width: 2).outputFeatures(for: 13))
    }

    /// Module numbering as nn.Sequential(Linear, ReLU, Unflatten, ConvTranspose2d, Flatten, Linear):
    /// the Flatten/Unflatten modules count, so the keys are 0.*, 3.*, 5.*.
    func testSequentialIndexingCountsFlattenModules() {
        var rng = Xoshiro256(seed: 1)
        let net = Sequential([
            Dense(inputSize: 4, outputSize: 2 * 3 * 3, activation: .relu, rng: &rng),
            Unflatten(channels: 2, height: 3, width: 3),
            ConvTranspose2d(inChannels: 2, outChannels: 1, kernel: 4, stride: 2, padding: 1,
                            inputHeight: 3, inputWidth: 3, rng: &rng),
            Flatten(),
            Dense(inputSize: 36, outputSize: 1, rng: &rng),
        ])
        XCTAssertEqual(net.stateEntries.map(\.name), ["0.weight", "0.bias", "3.weight", "3.bias", "5.weight", "5.bias"])
        XCTAssertEqual(net.outputFeatures(for: 4), 1)
        let y = net.forward(randomMatrix(2, 4, seed: 3), training: true)
        XCTAssertEqual(y.rows, 2)
        XCTAssertEqual(net.backward(randomMatrix(2, 1, seed: 4)).cols, 4)
    }
}
