import Foundation
import XCTest
import Linalg
@testable import NN

/// The contiguous gradient buffer, the gradient hooks and `clipGradientNorm`.
final class ParameterGroupTests: XCTestCase {
    /// Two parameters whose gradients are [[3, 4]] and [[12]]: total L2 norm 13 (3-4-5 and 5-12-13).
    private func twoParameters() -> (ParameterGroup, Parameter, Parameter) {
        let a = Parameter(name: "a", value: Matrix(rows: 1, cols: 2))
        let b = Parameter(name: "b", value: Matrix(rows: 1, cols: 1))
        let group = ParameterGroup([("a", a), ("b", b)])
        a.gradient = Matrix([[3, 4]])
        b.gradient = Matrix([[12]])
        return (group, a, b)
    }

    func testGradientsAreViewsOfOneBuffer() {
        let (group, a, b) = twoParameters()
        XCTAssertEqual(group.gradients.elements, [3, 4, 12])
        XCTAssertEqual(group.offsets, [0, 2])
        group.scaleGradients(by: 2)
        XCTAssertEqual(a.gradient.elements, [6, 8], "a write to the buffer is seen by the parameter")
        // A layer-style in-place write through the parameter is seen by the buffer.
        b.gradient.withUnsafeMutableBufferPointer { $0[0] = -1 }
        XCTAssertEqual(group.gradients.elements, [6, 8, -1])
        group.zeroGradients()
        XCTAssertEqual(a.gradient.elements, [0, 0])
        XCTAssertEqual(b.gradient.elements, [0])
    }

    /// `zeroGradients()` leaves the zeros pending: whatever reads the gradients next — the
    /// buffer, a parameter, a pointer to the buffer — must see zeros, and a write through a
    /// parameter must add to zeros, not to the old values.
    func testPendingZerosReadAsZerosEverywhere() {
        let (group, a, b) = twoParameters()
        group.zeroGradients()
        XCTAssertEqual(group.gradients.elements, [0, 0, 0])
        a.gradient = Matrix([[5, 6]])
        b.gradient = Matrix([[7]])
        group.zeroGradients()
        let seen = group.withMutableGradients { Array($0) }
        XCTAssertEqual(seen, [0, 0, 0], "a raw pointer to the buffer")
        a.gradient = Matrix([[5, 6]])
        b.gradient = Matrix([[7]])
        group.zeroGradients()
        b.gradient.withUnsafeMutableBufferPointer { $0[0] += 1 }
        XCTAssertEqual(b.gradient.elements, [1], "an in-place add after zeroing adds to 0")
        XCTAssertEqual(group.gradients.elements, [0, 0, 1])
        a.gradient = Matrix([[5, 6]])
        group.zeroGradients()
        XCTAssertNil(group.firstNonFiniteGradient())
        XCTAssertEqual(group.gradientNorm(), 0)
        a.gradient = Matrix([[3, 4]])
        group.zeroGradients()
        group.scaleGradients(by: 2)
        XCTAssertEqual(a.gradient.elements, [0, 0])
    }

    func testBuildingAGroupKeepsTheCurrentGradients() {
        let p = Parameter(name: "w", value: Matrix(rows: 2, cols: 2))
        p.gradient = Matrix([[1, 2], [3, 4]])
        let group = ParameterGroup([("w", p)])
        XCTAssertEqual(group.gradients.elements, [1, 2, 3, 4])
    }

    func testGroupOfANetworkUsesStateDictNames() {
        var rng = Xoshiro256(seed: 1)
        let net = Sequential([Dense(inputSize: 3, outputSize: 4, activation: .relu, rng: &rng),
                              Dense(inputSize: 4, outputSize: 2, rng: &rng)])
        let group = ParameterGroup([(prefix: "d.", network: net)])
        XCTAssertEqual(group.names, ["d.0.weight", "d.0.bias", "d.2.weight", "d.2.bias"])
        XCTAssertEqual(group.count, 3 * 4 + 4 + 4 * 2 + 2)
        XCTAssertNil(group.firstNonFiniteGradient())
        (net.layers[1] as! Dense).bias.gradient[0, 1] = .nan
        XCTAssertEqual(group.firstNonFiniteGradient(), "d.2.bias")
    }

    /// Hand-computed: total norm 13, max 6.5 -> every gradient times 6.5 / (13 + 1e-6).
    func testClipNormScalesTheTotalNormNotEachTensor() {
        let (group, a, b) = twoParameters()
        let before = clipGradientNorm(group, maxNorm: 6.5)
        XCTAssertEqual(before, 13, accuracy: 1e-12)
        let c = 6.5 / (13 + 1e-6)
        XCTAssertEqual(a.gradient[0, 0], Float(3 * c), accuracy: 1e-6)
        XCTAssertEqual(a.gradient[0, 1], Float(4 * c), accuracy: 1e-6)
        XCTAssertEqual(b.gradient[0, 0], Float(12 * c), accuracy: 1e-6)
        XCTAssertEqual(group.gradientNorm(), 6.5, accuracy: 1e-5)
        // Clipping each tensor to 6.5 would have left [3, 4] (norm 5) unchanged.
        XCTAssertLessThan(a.gradient[0, 1], 3)
    }

    func testClipNormLeavesSmallGradientsUnchanged() {
        let (group, a, b) = twoParameters()
        clipGradientNorm(group, maxNorm: 20)
        XCTAssertEqual(a.gradient.elements, [3, 4])
        XCTAssertEqual(b.gradient.elements, [12])
    }

    func testHooksAsValues() throws {
        let (group, _, b) = twoParameters()
        try GradientHook.clipNorm(1).body(group)
        XCTAssertEqual(group.gradientNorm(), 1, accuracy: 1e-5)
        b.gradient[0, 0] = .infinity
        XCTAssertThrowsError(try GradientHook.nonFiniteCheck.body(group)) { error in
            XCTAssertEqual((error as? NonFiniteGradientError)?.parameter, "b")
        }
    }
}

/// `clipGradientNorm` against torch.nn.utils.clip_grad_norm_ (fixture written by
/// scripts/clip_norm_reference.py with torch): the total norm and every clipped gradient.
final class ClipNormFixtureTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable { let max_norm: Float; let total_norm: Double; let clipped: [[Float]] }
        let shapes: [[Int]]
        let gradients: [[Float]]
        let cases: [Case]
    }

    func testMatchesPyTorch() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/clip_norm_reference.json")
        let f = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertEqual(f.cases.count, 3)
        for c in f.cases {
            let params = zip(f.shapes, f.gradients).enumerated().map { i, sg -> Parameter in
                let rows = sg.0.count == 1 ? 1 : sg.0[0]
                let p = Parameter(name: "p\(i)", value: Matrix(rows: rows, cols: sg.1.count / rows))
                p.gradient = Matrix(rows: rows, cols: sg.1.count / rows, elements: sg.1)
                return p
            }
            let group = ParameterGroup(params.map { ($0.name, $0) })
            let total = clipGradientNorm(group, maxNorm: c.max_norm)
            XCTAssertEqual(total, c.total_norm, accuracy: 1e-5 * c.total_norm, "max \(c.max_norm)")
            for (p, want) in zip(params, c.clipped) {
                for (got, w) in zip(p.gradient.elements, want) {
                    XCTAssertEqual(got, w, accuracy: 1e-6 + 1e-5 * abs(w), "max \(c.max_norm) \(p.name)")
                }
            }
        }
    }
}
