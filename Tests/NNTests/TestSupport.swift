import Foundation
import XCTest
import Linalg
@testable import NN

/// Central finite differences of `f` at `v` with step `h` (all in Double):
/// error O(h²) + rounding O(eps_double / h), about 1e-9 for h = 1e-5 on these small functions.
func numericalGradient(_ v: [Double], h: Double = 1e-5, _ f: ([Double]) -> Double) -> [Double] {
    var x = v
    var g = [Double](repeating: 0, count: v.count)
    for i in v.indices {
        let old = x[i]
        x[i] = old + h; let fp = f(x)
        x[i] = old - h; let fm = f(x)
        x[i] = old
        g[i] = (fp - fm) / (2 * h)
    }
    return g
}

/// Double-precision activations written independently of NN's Float kernels.
func refActivation(_ a: Activation, _ x: Double) -> Double {
    switch a {
    case .identity: return x
    case .relu: return Swift.max(x, 0)
    case .leakyReLU(let s): return x >= 0 ? x : Double(s) * x
    case .sigmoid: return 1 / (1 + exp(-x))
    case .tanh: return tanh(x)
    case .softplus: return log(1 + exp(x))
    }
}

/// A layer of a Double reference network.
enum RefLayer {
    case dense(w: [Double], b: [Double], nin: Int, nout: Int, act: Activation)
    case act(Activation)
}

/// `rows x nin` input (row-major) through the reference network.
func refForward(_ layers: [RefLayer], _ x: [Double], rows: Int) -> [Double] {
    var h = x
    for l in layers {
        switch l {
        case let .dense(w, b, nin, nout, act):
            var y = [Double](repeating: 0, count: rows * nout)
            for r in 0..<rows {
                for j in 0..<nout {
                    var s = b[j]
                    for k in 0..<nin { s += h[r * nin + k] * w[k * nout + j] }
                    y[r * nout + j] = refActivation(act, s)
                }
            }
            h = y
        case .act(let a):
            h = h.map { refActivation(a, $0) }
        }
    }
    return h
}

func doubles(_ m: Matrix) -> [Double] { m.elements.map(Double.init) }

/// Asserts `|a - b| <= atol + rtol * |b|` element-wise, naming the first failure.
func assertClose(_ a: [Double], _ b: [Double], atol: Double, rtol: Double, _ what: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(what): counts differ", file: file, line: line)
    for i in 0..<Swift.min(a.count, b.count) {
        if !(abs(a[i] - b[i]) <= atol + rtol * abs(b[i])) {
            XCTFail("\(what)[\(i)]: \(a[i]) vs expected \(b[i])", file: file, line: line)
            return
        }
    }
}

/// A `rows x cols` matrix of uniform values in [low, high) from a fixed seed.
func randomMatrix(_ rows: Int, _ cols: Int, low: Float = -1, high: Float = 1,
                  seed: UInt64) -> Matrix {
    var rng = Xoshiro256(seed: seed)
    return Matrix.uniform(rows: rows, cols: cols, low: low, high: high, using: &rng)
}

/// Address of a matrix's first element (to check that buffers are reused, not reallocated).
func address(_ m: Matrix) -> Int {
    m.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
}
