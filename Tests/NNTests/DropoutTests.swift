import Foundation
import XCTest
import Linalg
@testable import NN

final class DropoutTests: XCTestCase {
    /// Training: every output is 0 or x / (1 - p); about p of them are 0 (200,000 draws:
    /// the standard error of the fraction is ~0.001, the tolerance 0.005); eval is the identity.
    func testMaskValuesRateAndEval() {
        let p: Float = 0.3
        let layer = Dropout(probability: p, seed: 7)
        let x = randomMatrix(200, 1000, low: 0.5, high: 1.5, seed: 1)
        let y = layer.forward(x, training: true)
        var zeros = 0
        for (a, b) in zip(x.elements, y.elements) {
            if b == 0 { zeros += 1 } else { XCTAssertEqual(b, a * (1 / (1 - p)), accuracy: 1e-6) }
        }
        XCTAssertEqual(Double(zeros) / Double(x.count), Double(p), accuracy: 0.005)
        XCTAssertEqual(layer.forward(x, training: false), x)
        XCTAssertEqual(Dropout(probability: 0, seed: 1).forward(x, training: true), x)
        XCTAssertTrue(Dropout(probability: 1, seed: 1).forward(x, training: true).elements.allSatisfy { $0 == 0 })
    }

    /// The same seed gives the same masks; the generator advances between batches.
    func testExplicitGeneratorIsReproducible() {
        let x = randomMatrix(4, 50, seed: 2)
        let a = Dropout(probability: 0.5, rng: Xoshiro256(seed: 11)), b = Dropout(probability: 0.5, seed: 11)
        let a1 = a.forward(x, training: true), b1 = b.forward(x, training: true)
        XCTAssertEqual(a1, b1)
        XCTAssertNotEqual(a.forward(x, training: true), a1)
        XCTAssertNotEqual(a.rng, b.rng, "a drew one more mask")
    }

    /// dX against central differences of the layer itself with the mask held fixed (the
    /// generator rewound before every forward), in Float with h = 1e-2 (the function is linear,
    /// so only rounding remains: tolerance 1e-3).
    func testGradientMatchesFiniteDifferencesWithFixedMask() {
        let layer = Dropout(probability: 0.4, seed: 3)
        let start = layer.rng
        let x = randomMatrix(3, 7, seed: 4), r = randomMatrix(3, 7, seed: 5)
        _ = layer.forward(x, training: true)
        let dx = layer.backward(r)
        let numeric = numericalGradient(doubles(x), h: 1e-2) { v in
            layer.rng = start
            let y = layer.forward(Matrix(rows: 3, cols: 7, elements: v.map(Float.init)), training: true)
            return dot(doubles(y), doubles(r))
        }
        assertClose(doubles(dx), numeric, atol: 1e-3, rtol: 1e-3, "Dropout dX")
        layer.computesInputGradient = false
        _ = layer.forward(x, training: true)
        XCTAssertEqual(layer.backward(r), .empty)
    }
}
