import Foundation
import XCTest
import Linalg
@testable import NN

final class ActivationTests: XCTestCase {
    /// ActivationLayer forward and backward against a Double reference and finite differences.
    func testActivationLayerGradients() {
        for act in DenseTests.activations {
            let layer = ActivationLayer(act)
            let x = randomMatrix(3, 4, low: -3, high: 3, seed: 31)
            let r = randomMatrix(3, 4, seed: 32)
            let y = layer.forward(x, training: true)
            let dx = layer.backward(r)
            let rd = doubles(r)
            assertClose(doubles(y), doubles(x).map { refActivation(act, $0) }, atol: 1e-6, rtol: 1e-6, "\(act) forward")
            let num = numericalGradient(doubles(x)) { v in
                zip(v.map { refActivation(act, $0) }, rd).reduce(0) { $0 + $1.0 * $1.1 }
            }
            assertClose(doubles(dx), num, atol: 1e-5, rtol: 1e-4, "\(act) dX")
        }
    }

    func testExtremeInputsStayFiniteAndNaNPropagates() {
        let x = Matrix(rows: 1, cols: 7, elements: [1000, -1000, 100, -100, 0, -0.0, .nan])
        for act in DenseTests.activations {
            let y = ActivationLayer(act).forward(x, training: false)
            XCTAssertTrue(y.elements.prefix(6).allSatisfy { $0.isFinite }, "\(act): \(y.elements)")
            XCTAssertTrue(y[0, 6].isNaN, "\(act) must propagate NaN, got \(y[0, 6])")
        }
        let s = ActivationLayer(.sigmoid).forward(x, training: false)
        XCTAssertEqual(s[0, 0], 1); XCTAssertEqual(s[0, 1], 0); XCTAssertEqual(s[0, 4], 0.5)
        let t = ActivationLayer(.tanh).forward(x, training: false)
        XCTAssertEqual(t[0, 2], 1); XCTAssertEqual(t[0, 3], -1)
        let sp = ActivationLayer(.softplus).forward(x, training: false)
        XCTAssertEqual(sp[0, 0], 1000); XCTAssertEqual(sp[0, 1], 0)
        XCTAssertEqual(sp[0, 4], Float(log(2.0)), accuracy: 1e-7)
        // Derivatives at the extremes are finite too (saturated sigmoid/tanh give 0).
        let layer = ActivationLayer(.softplus)
        _ = layer.forward(x, training: true)
        let d = layer.backward(Matrix(rows: 1, cols: 7, repeating: 1))
        XCTAssertEqual(d[0, 0], 1); XCTAssertEqual(d[0, 1], 0)
    }

    /// Float kernels against Double formulas over [-60, 60] (step 0.01) plus large values:
    /// relative error at most 1e-6 (a few Float ulps).
    func testAccuracyAgainstDouble() {
        var xs = stride(from: -60.0, through: 60.0, by: 0.01).map { Float($0) }
        xs += [-1000, -100, -88, 1e-6, -1e-6, 1e-30, 88, 100, 1000]
        let x = Matrix(rows: 1, cols: xs.count, elements: xs)
        for act in [Activation.sigmoid, .tanh, .softplus] {
            let y = ActivationLayer(act).forward(x, training: false).elements
            for (i, v) in xs.enumerated() {
                let d = Double(v)
                let ref: Double
                switch act {
                case .sigmoid: ref = d >= 0 ? 1 / (1 + exp(-d)) : exp(d) / (1 + exp(d))
                case .tanh: ref = tanh(d)
                default: ref = max(d, 0) + log1p(exp(-abs(d)))
                }
                if abs(Double(y[i]) - ref) > 1e-6 * abs(ref) + 1e-38 {
                    XCTFail("\(act)(\(v)) = \(y[i]), expected \(ref)"); break
                }
            }
        }
    }

    /// Documented convention: derivative at exactly 0 is 0 for ReLU and the slope for LeakyReLU.
    func testDerivativeAtZero() {
        let x = Matrix(rows: 1, cols: 2, elements: [0, -0.0])
        let relu = ActivationLayer(.relu)
        _ = relu.forward(x, training: true)
        XCTAssertEqual(relu.backward(Matrix(rows: 1, cols: 2, repeating: 1)).elements, [0, 0])
        let leaky = ActivationLayer(.leakyReLU(negativeSlope: 0.25))
        _ = leaky.forward(x, training: true)
        XCTAssertEqual(leaky.backward(Matrix(rows: 1, cols: 2, repeating: 1)).elements, [0.25, 0.25])
    }
}
