import Foundation
import XCTest
import Linalg
@testable import NN

/// The double backward (InputGradientDifferentiable) against an independent Double reference:
/// the input gradient ∇_x D against central differences of the reference forward, and the
/// gradient of the penalty P(θ) = Σ_rows (‖∇_x D(x_row)‖ - 1)² with respect to every weight and
/// bias against central differences of P computed with the reference's own (analytic, Double)
/// input gradient.
final class SecondOrderTests: XCTestCase {
    /// f'(a) of the piecewise-linear activations at the pre-activation a (a ≠ 0 here).
    private func refDerivative(_ act: Activation, _ a: Double) -> Double {
        switch act {
        case .identity: return 1
        case .relu: return a > 0 ? 1 : 0
        case .leakyReLU(let s): return a > 0 ? 1 : Double(s)
        default: fatalError("not piecewise linear")
        }
    }

    /// ∇_x of Σ_rows D(x_row) for a scalar-output reference network, by backpropagation in
    /// Double (`rows x nin` of the first layer).
    private func refInputGradient(_ layers: [RefLayer], _ x: [Double], rows: Int) -> [Double] {
        var pre: [[Double]] = [], h = x   // pre-activations of each layer
        for l in layers {
            switch l {
            case let .dense(w, b, nin, nout, act):
                var a = [Double](repeating: 0, count: rows * nout)
                for r in 0..<rows { for j in 0..<nout {
                    a[r * nout + j] = b[j] + (0..<nin).reduce(0) { $0 + h[r * nin + $1] * w[$1 * nout + j] }
                } }
                pre.append(a); h = a.map { refActivation(act, $0) }
            case .act(let act):
                pre.append(h); h = h.map { refActivation(act, $0) }
            }
        }
        var g = [Double](repeating: 1, count: rows)   // ∂D/∂y of the last layer
        for (k, l) in layers.enumerated().reversed() {
            switch l {
            case let .dense(w, _, nin, nout, act):
                let d = (0..<(rows * nout)).map { g[$0] * refDerivative(act, pre[k][$0]) }
                g = (0..<(rows * nin)).map { idx in
                    let r = idx / nin, i = idx % nin
                    return (0..<nout).reduce(0) { $0 + d[r * nout + $1] * w[i * nout + $1] }
                }
            case .act(let act):
                g = g.indices.map { g[$0] * refDerivative(act, pre[k][$0]) }
            }
        }
        return g
    }

    private func penalty(_ g: [Double], rows: Int) -> Double {
        let n = g.count / rows
        return (0..<rows).reduce(0) { s, r in
            let norm = (0..<n).reduce(0) { $0 + g[r * n + $1] * g[r * n + $1] }.squareRoot()
            return s + (norm - 1) * (norm - 1)
        }
    }

    /// Dense + LeakyReLU, Dense identity + ActivationLayer ReLU, Dense + ReLU, Dense identity.
    private func makeNetwork(seed: UInt64) -> (Sequential, [Dense], [Activation?]) {
        var rng = Xoshiro256(seed: seed)
        let d1 = Dense(inputSize: 5, outputSize: 8, activation: .leakyReLU(negativeSlope: 0.2),
                       initializer: .glorotUniform, rng: &rng)
        let d2 = Dense(inputSize: 8, outputSize: 6, initializer: .glorotUniform, rng: &rng)
        let d3 = Dense(inputSize: 6, outputSize: 4, activation: .relu, initializer: .glorotUniform, rng: &rng)
        let d4 = Dense(inputSize: 4, outputSize: 1, initializer: .glorotUniform, rng: &rng)
        for (k, d) in [d1, d2, d3, d4].enumerated() {
            d.bias.value = randomMatrix(1, d.outputSize, low: -0.5, high: 0.5, seed: 40 + UInt64(k))
        }
        let net = Sequential([d1, d2, ActivationLayer(.relu), d3, d4])
        return (net, [d1, d2, d3, d4], [nil, nil, .relu, nil, nil])
    }

    /// The reference layers of `dense` with weights and biases taken from `flat`
    /// (each Dense's weight row-major, then its bias).
    private func refLayers(_ dense: [Dense], _ flat: [Double]) -> [RefLayer] {
        var o = 0, out: [RefLayer] = []
        for (k, d) in dense.enumerated() {
            let nw = d.inputSize * d.outputSize
            out.append(.dense(w: Array(flat[o..<(o + nw)]), b: Array(flat[(o + nw)..<(o + nw + d.outputSize)]),
                              nin: d.inputSize, nout: d.outputSize, act: d.activation))
            o += nw + d.outputSize
            if k == 1 { out.append(.act(.relu)) }
        }
        return out
    }

    func testInputGradientMatchesFiniteDifferences() {
        let (net, dense, _) = makeNetwork(seed: 3)
        let rows = 4
        let x = randomMatrix(rows, 5, low: -2, high: 2, seed: 9)
        _ = net.forward(x, training: false)
        let g = net.differentiableInputGradient(Matrix(rows: rows, cols: 1, repeating: 1))
        let flat = dense.flatMap { doubles($0.weight.value) + doubles($0.bias.value) }
        let layers = refLayers(dense, flat)
        let numerical = numericalGradient(doubles(x)) { refForward(layers, $0, rows: rows).reduce(0, +) }
        assertClose(doubles(g), numerical, atol: 1e-5, rtol: 1e-4, "∇x D")
        assertClose(refInputGradient(layers, doubles(x), rows: rows), numerical, atol: 1e-7, rtol: 1e-6,
                    "reference ∇x D")
    }

    /// ∂P/∂θ for every weight and bias. ḡ_in = ∂P/∂g = 2 (‖g‖ - 1) g / ‖g‖ per row, written here.
    func testPenaltyGradientMatchesFiniteDifferencesForEveryParameter() {
        for seed: UInt64 in [3, 4, 5] {
            let (net, dense, _) = makeNetwork(seed: seed)
            let rows = 3
            let x = randomMatrix(rows, 5, low: -2, high: 2, seed: 10 + seed)
            net.zeroGradients()
            _ = net.forward(x, training: false)
            let g = doubles(net.differentiableInputGradient(Matrix(rows: rows, cols: 1, repeating: 1)))
            var u = [Float](repeating: 0, count: g.count)
            for r in 0..<rows {
                let row = g[(r * 5)..<(r * 5 + 5)]
                let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
                for i in 0..<5 { u[r * 5 + i] = Float(2 * (norm - 1) * g[r * 5 + i] / norm) }
            }
            let top = net.backwardOfInputGradient(Matrix(rows: rows, cols: 5, elements: u))
            XCTAssertEqual([top.rows, top.cols], [rows, 1])

            let flat = dense.flatMap { doubles($0.weight.value) + doubles($0.bias.value) }
            let numerical = numericalGradient(flat) { p in
                penalty(refInputGradient(refLayers(dense, p), doubles(x), rows: rows), rows: rows)
            }
            let analytic = dense.flatMap { doubles($0.weight.gradient) + doubles($0.bias.gradient) }
            assertClose(analytic, numerical, atol: 2e-4, rtol: 2e-3, "∂P/∂θ seed \(seed)")
            XCTAssertTrue(dense.allSatisfy { $0.bias.gradient.elements.allSatisfy { $0 == 0 } },
                          "piecewise-linear network: the penalty does not depend on the biases")
            XCTAssertGreaterThan(numerical.map(abs).max()!, 0.01, "the check must not be vacuous")
        }
    }

    /// A frozen layer accumulates no ∂P/∂W but still passes ∂P/∂g_out on; gradients accumulate.
    func testFrozenAndAccumulation() {
        let (net, dense, _) = makeNetwork(seed: 6)
        let x = randomMatrix(3, 5, seed: 2), u = randomMatrix(3, 5, seed: 8)
        func run() -> [Float] {
            _ = net.forward(x, training: false)
            _ = net.differentiableInputGradient(Matrix(rows: 3, cols: 1, repeating: 1))
            return net.backwardOfInputGradient(u).elements
        }
        net.zeroGradients()
        let top = run()
        let once = dense[0].weight.gradient.elements
        _ = run()
        assertClose(doubles(dense[0].weight.gradient), once.map { 2 * Double($0) }, atol: 1e-6, rtol: 1e-6,
                    "accumulates")
        dense[0].isFrozen = true
        net.zeroGradients()
        XCTAssertEqual(run(), top)
        XCTAssertTrue(dense[0].weight.gradient.elements.allSatisfy { $0 == 0 })
        XCTAssertFalse(dense[1].weight.gradient.elements.allSatisfy { $0 == 0 })
    }

    /// Curved activations and layers without the capability are named.
    func testUnsupportedLayersAreReported() {
        var rng = Xoshiro256(seed: 1)
        XCTAssertNil(makeNetwork(seed: 1).0.secondOrderProblem)
        let tanhNet = Sequential([Dense(inputSize: 2, outputSize: 3, activation: .leakyReLU(negativeSlope: 0.2), rng: &rng),
                                  Dense(inputSize: 3, outputSize: 1, activation: .tanh, rng: &rng)])
        XCTAssertEqual(tanhNet.secondOrderProblem, "layer 1: Dense 3->1 with tanh: its second derivative is not zero")
        XCTAssertNotNil(ActivationLayer(.sigmoid).secondOrderProblem)
        final class Opaque: Layer {
            var isFrozen = false, computesInputGradient = true
            var parameters: [Parameter] { [] }
            func forward(_ x: Matrix, training: Bool) -> Matrix { x }
            func backward(_ g: Matrix) -> Matrix { g }
        }
        XCTAssertEqual(Sequential([Opaque()]).secondOrderProblem, "layer 0 (Opaque) has no double backward")
    }

    /// Steady state: the same buffers at every step (no reallocation).
    func testBuffersAreReused() {
        let (net, _, _) = makeNetwork(seed: 7)
        let x = randomMatrix(6, 5, seed: 1), u = randomMatrix(6, 5, seed: 2)
        let ones = Matrix(rows: 6, cols: 1, repeating: 1)
        func step() -> (Int, Int) {
            _ = net.forward(x, training: false)
            let g = address(net.differentiableInputGradient(ones))
            return (g, address(net.backwardOfInputGradient(u)))
        }
        let first = step(), second = step()
        XCTAssertEqual(first.0, second.0)
        XCTAssertEqual(first.1, second.1)
    }
}
