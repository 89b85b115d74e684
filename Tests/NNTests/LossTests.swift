import Foundation
import XCTest
import Linalg
@testable import NN

final class LossTests: XCTestCase {
    static let reductions: [Reduction] = [.mean, .batchMean, .sum]

    static func divisor(_ r: Reduction, rows: Int, cols: Int) -> Double {
        switch r { case .mean: return Double(rows * cols); case .batchMean: return Double(rows); case .sum: return 1 }
    }

    /// Checks value and gradient of `ours` against an independent Double formula `ref`
    /// (sum of per-element terms) and its central finite differences.
    func check(_ name: String, x: Matrix, rows: Int, cols: Int,
               ref: ([Double]) -> Double, ours: (Reduction, inout Matrix) -> Float) {
        for red in Self.reductions {
            let d = Self.divisor(red, rows: rows, cols: cols)
            var grad = Matrix.empty
            let value = ours(red, &grad)
            let xd = doubles(x)
            XCTAssertEqual(Double(value), ref(xd) / d, accuracy: 1e-5 * max(1, abs(ref(xd) / d)), "\(name) \(red) value")
            XCTAssertEqual(grad.rows, rows); XCTAssertEqual(grad.cols, cols)
            assertClose(doubles(grad), numericalGradient(xd) { ref($0) / d }, atol: 1e-6, rtol: 1e-4,
                        "\(name) \(red) gradient")
        }
    }

    func testBinaryCrossEntropy() {
        let p = randomMatrix(3, 4, low: 0.05, high: 0.95, seed: 41)
        let y = randomMatrix(3, 4, low: 0, high: 1, seed: 42)   // soft targets too
        let yd = doubles(y)
        check("BCE", x: p, rows: 3, cols: 4, ref: { v in
            zip(v, yd).reduce(0) { $0 - ($1.1 * log($1.0) + (1 - $1.1) * log(1 - $1.0)) }
        }, ours: { Loss.binaryCrossEntropy(predictions: p, targets: y, reduction: $0, gradient: &$1) })
    }

    func testBinaryCrossEntropyWithLogits() {
        let x = randomMatrix(3, 4, low: -4, high: 4, seed: 43)
        let y = randomMatrix(3, 4, low: 0, high: 1, seed: 44)
        let yd = doubles(y)
        check("BCEWithLogits", x: x, rows: 3, cols: 4, ref: { v in
            zip(v, yd).reduce(0) { acc, e in
                let s = 1 / (1 + exp(-e.0))
                return acc - (e.1 * log(s) + (1 - e.1) * log(1 - s))
            }
        }, ours: { Loss.binaryCrossEntropyWithLogits(logits: x, targets: y, reduction: $0, gradient: &$1) })
    }

    func testMeanSquaredError() {
        let p = randomMatrix(2, 5, seed: 45), y = randomMatrix(2, 5, seed: 46)
        let yd = doubles(y)
        check("MSE", x: p, rows: 2, cols: 5, ref: { v in
            zip(v, yd).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        }, ours: { Loss.meanSquaredError(predictions: p, targets: y, reduction: $0, gradient: &$1) })
    }

    func testSoftmaxCrossEntropy() {
        let x = randomMatrix(4, 5, low: -3, high: 3, seed: 47)
        let labels: [Int32] = [0, 4, 2, 2]
        func ref(_ v: [Double]) -> Double {
            (0..<4).reduce(0) { acc, r in
                let row = Array(v[(r * 5)..<(r * 5 + 5)])
                return acc + log(row.map(exp).reduce(0, +)) - row[Int(labels[r])]
            }
        }
        for red in Self.reductions {
            let d: Double = red == .sum ? 1 : 4   // one loss per sample
            var grad = Matrix.empty
            let value = Loss.softmaxCrossEntropy(logits: x, labels: labels, reduction: red, gradient: &grad)
            XCTAssertEqual(Double(value), ref(doubles(x)) / d, accuracy: 1e-5)
            assertClose(doubles(grad), numericalGradient(doubles(x)) { ref($0) / d }, atol: 1e-6, rtol: 1e-4, "CE \(red)")
        }
        // Huge logits: max-shifted, finite.
        var g = Matrix.empty
        let big = Loss.softmaxCrossEntropy(logits: Matrix([[1000, -1000, 0]]), labels: [1], reduction: .mean, gradient: &g)
        XCTAssertEqual(big, 2000); XCTAssertTrue(g.allFinite())
    }

    func testGaussianKL() {
        let mu = randomMatrix(3, 2, low: -2, high: 2, seed: 48)
        let logvar = randomMatrix(3, 2, low: -2, high: 1, seed: 49)
        let md = doubles(mu), ld = doubles(logvar)
        func ref(_ m: [Double], _ l: [Double]) -> Double {
            -0.5 * zip(m, l).reduce(0) { $0 + 1 + $1.1 - $1.0 * $1.0 - exp($1.1) }
        }
        for red in Self.reductions {
            let d = Self.divisor(red, rows: 3, cols: 2)
            var gm = Matrix.empty, gl = Matrix.empty
            let v = Loss.gaussianKL(mu: mu, logvar: logvar, reduction: red, gradientMu: &gm, gradientLogvar: &gl)
            XCTAssertEqual(Double(v), ref(md, ld) / d, accuracy: 1e-5)
            assertClose(doubles(gm), numericalGradient(md) { ref($0, ld) / d }, atol: 1e-6, rtol: 1e-4, "KL dmu \(red)")
            assertClose(doubles(gl), numericalGradient(ld) { ref(md, $0) / d }, atol: 1e-6, rtol: 1e-4, "KL dlogvar \(red)")
        }
        // KL of N(0, 1) against itself is exactly 0.
        var gm = Matrix.empty, gl = Matrix.empty
        XCTAssertEqual(Loss.gaussianKL(mu: Matrix(rows: 2, cols: 3), logvar: Matrix(rows: 2, cols: 3),
                                       reduction: .sum, gradientMu: &gm, gradientLogvar: &gl), 0)
    }

    func testBCEEdgeValues() {
        var g = Matrix.empty
        let perfect = Loss.binaryCrossEntropy(predictions: Matrix([[0, 1]]), targets: Matrix([[0, 1]]),
                                              reduction: .mean, gradient: &g)
        XCTAssertEqual(perfect, 0)
        XCTAssertEqual(g.elements, [0, 0])
        let wrong = Loss.binaryCrossEntropy(predictions: Matrix([[0, 1]]), targets: Matrix([[1, 0]]),
                                            reduction: .sum, gradient: &g)
        XCTAssertEqual(wrong, 200, "each log is clamped at -100, like PyTorch")
        XCTAssertTrue(g.allFinite())
        let nan = Loss.binaryCrossEntropy(predictions: Matrix([[.nan, 0.5]]), targets: Matrix([[1, 1]]),
                                          reduction: .mean, gradient: &g)
        XCTAssertTrue(nan.isNaN)

        let logits = Matrix([[200, -200, 200, -200]]), t = Matrix([[1, 0, 0, 1]])
        let l = Loss.binaryCrossEntropyWithLogits(logits: logits, targets: t, reduction: .sum, gradient: &g)
        XCTAssertEqual(l, 400)
        XCTAssertEqual(g.elements, [0, 0, 1, -1])
        let exact = Loss.binaryCrossEntropyWithLogits(logits: Matrix([[200, -200]]), targets: Matrix([[1, 0]]),
                                                      reduction: .sum, gradient: &g)
        XCTAssertEqual(exact, 0)
        let nanL = Loss.binaryCrossEntropyWithLogits(logits: Matrix([[.nan]]), targets: Matrix([[1]]),
                                                     reduction: .sum, gradient: &g)
        XCTAssertTrue(nanL.isNaN && g[0, 0].isNaN)
    }

    func testGradientBufferIsReused() {
        var g = Matrix.empty
        let p = randomMatrix(8, 3, low: 0.1, high: 0.9, seed: 1), y = randomMatrix(8, 3, low: 0, high: 1, seed: 2)
        _ = Loss.binaryCrossEntropy(predictions: p, targets: y, reduction: .mean, gradient: &g)
        let a = address(g)
        _ = Loss.binaryCrossEntropy(predictions: p.rows(0..<2), targets: y.rows(0..<2), reduction: .mean, gradient: &g)
        XCTAssertEqual(g.rows, 2)
        _ = Loss.meanSquaredError(predictions: p, targets: y, reduction: .mean, gradient: &g)
        XCTAssertEqual(address(g), a)
    }
}
