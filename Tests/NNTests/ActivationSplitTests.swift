import XCTest
import Linalg
@testable import NN

/// The activation passes split over the row-split threads give the caller-alone results bit
/// for bit: each part must start at its own rows (a wrong offset or a missed part shows).
final class ActivationSplitTests: XCTestCase {
    override func tearDown() { BLASThreads.set(.openBLAS(threads: 1)) }

    /// 203 x 700: under 3 threads, three parts of 68 rows and more than 32,768 elements each.
    private let rows = 203, cols = 700

    func testSplitBiasActivateMatchesTheCallerAlone() {
        let x = randomMatrix(rows, cols, low: -8, high: 8, seed: 41)
        let bias = randomMatrix(1, cols, low: -1, high: 1, seed: 42)
        BLASThreads.set(.rowSplit(threads: 3))
        for act in DenseTests.activations {
            var split = x, alone = x
            split.withUnsafeMutableBufferPointer { y in
                bias.withUnsafeBufferPointer { b in
                    ActivationKernels.biasActivate(y.baseAddress!, rows: rows, cols: cols, bias: b.baseAddress, act)
                }
            }
            alone.withUnsafeMutableBufferPointer { y in
                bias.withUnsafeBufferPointer { b in
                    ActivationKernels.biasActivateSerial(y.baseAddress!, rows: rows, cols: cols, bias: b.baseAddress, act)
                }
            }
            XCTAssertEqual(split.elements.map(\.bitPattern), alone.elements.map(\.bitPattern), "\(act)")
            XCTAssertNotEqual(split.elements, x.elements, "\(act): the pass ran")
        }
    }

    func testSplitBackwardMatchesTheCallerAlone() {
        let dy = randomMatrix(rows, cols, low: -2, high: 2, seed: 43)
        BLASThreads.set(.rowSplit(threads: 3))
        for act in DenseTests.activations {
            // A layer's outputs, so each derivative sees values in its range.
            var y = randomMatrix(rows, cols, low: -3, high: 3, seed: 44)
            y.withUnsafeMutableBufferPointer { ActivationKernels.biasActivateSerial($0.baseAddress!, rows: rows, cols: cols, bias: nil, act) }
            let split = backward(dy, y, act, serial: false), alone = backward(dy, y, act, serial: true)
            XCTAssertEqual(split.elements.map(\.bitPattern), alone.elements.map(\.bitPattern), "\(act)")
            XCTAssertFalse(split.elements.allSatisfy { $0 == 0 }, "\(act): the pass ran")
        }
    }

    /// `dZ = dY ⊙ f'(Y)` by the split pass or by the caller alone.
    private func backward(_ dy: Matrix, _ y: Matrix, _ act: Activation, serial: Bool) -> Matrix {
        var dz = Matrix(rows: rows, cols: cols)
        let n = rows * cols
        dy.withUnsafeBufferPointer { g in
            y.withUnsafeBufferPointer { o in
                dz.withUnsafeMutableBufferPointer { z in
                    if serial {
                        ActivationKernels.backwardSerial(gradOutput: g.baseAddress!, output: o.baseAddress!, into: z.baseAddress!, count: n, act)
                    } else {
                        ActivationKernels.backward(gradOutput: g.baseAddress!, output: o.baseAddress!, into: z.baseAddress!, count: n, act)
                    }
                }
            }
        }
        return dz
    }
}
