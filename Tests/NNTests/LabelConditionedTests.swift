import Foundation
import XCTest
import Linalg
@testable import NN

/// `LabelConditioned`: the network sees `[x | one-hot label repeated spatial times]`; its input
/// gradient is the x part; the double backward of a gradient penalty on ∇_x D is exact.
final class LabelConditionedTests: XCTestCase {
    let classes = 4, spatial = 3, width = 6, rows = 5
    let labels: [Int32] = [2, 0, 3, 3, 1]

    /// `[x | onehot]` written out element by element (the layout the doc comment promises).
    private func concatenated(_ x: [Double]) -> [Double] {
        var out: [Double] = []
        for r in 0..<rows {
            out += x[(r * width)..<((r + 1) * width)]
            for c in 0..<classes { out += Array(repeating: c == Int(labels[r]) ? 1 : 0, count: spatial) }
        }
        return out
    }

    private func makeNetwork(seed: UInt64) -> (LabelConditioned, Dense, Dense) {
        var rng = Xoshiro256(seed: seed)
        let nin = width + classes * spatial
        let d1 = Dense(inputSize: nin, outputSize: 7, activation: .leakyReLU(negativeSlope: 0.2),
                       initializer: .glorotUniform, rng: &rng)
        let d2 = Dense(inputSize: 7, outputSize: 1, initializer: .glorotUniform, rng: &rng)
        d1.bias.value = randomMatrix(1, 7, low: -0.5, high: 0.5, seed: seed + 100)
        d2.bias.value = randomMatrix(1, 1, low: -0.5, high: 0.5, seed: seed + 101)
        let net = LabelConditioned(Sequential([d1, d2]), numClasses: classes, spatial: spatial)
        net.setLabels(labels)
        return (net, d1, d2)
    }

    private func refLayers(_ p: [Double], _ d1: Dense) -> [RefLayer] {
        let nin = d1.inputSize, n1 = nin * 7
        return [.dense(w: Array(p[0..<n1]), b: Array(p[n1..<(n1 + 7)]), nin: nin, nout: 7, act: .leakyReLU(negativeSlope: 0.2)),
                .dense(w: Array(p[(n1 + 7)..<(n1 + 14)]), b: [p[n1 + 14]], nin: 7, nout: 1, act: .identity)]
    }

    private func flatParameters(_ d1: Dense, _ d2: Dense) -> [Double] {
        doubles(d1.weight.value) + doubles(d1.bias.value) + doubles(d2.weight.value) + doubles(d2.bias.value)
    }

    func testForwardIsTheNetworkOnTheConcatenation() {
        let (net, d1, d2) = makeNetwork(seed: 1)
        let x = randomMatrix(rows, width, seed: 2)
        let out = doubles(net.forward(x, training: false))
        let expected = refForward(refLayers(flatParameters(d1, d2), d1), concatenated(doubles(x)), rows: rows)
        assertClose(out, expected, atol: 1e-5, rtol: 1e-5, "D(x, y)")
        XCTAssertEqual(net.outputFeatures(for: width), 1)
        XCTAssertEqual(net.stateEntries.map(\.name), Sequential([d1, d2]).stateEntries.map(\.name))
    }

    /// dL/dx for L = Σ_r w_r D(x_r, y_r), against central differences of the reference.
    func testInputGradientIsTheXPartByFiniteDifferences() {
        let (net, d1, d2) = makeNetwork(seed: 3)
        let x = randomMatrix(rows, width, low: -2, high: 2, seed: 4)
        let w = randomMatrix(rows, 1, seed: 5)
        _ = net.forward(x, training: true)
        let g = net.backward(w)
        XCTAssertEqual([g.rows, g.cols], [rows, width])
        let layers = refLayers(flatParameters(d1, d2), d1)
        let numerical = numericalGradient(doubles(x)) { v in
            zip(refForward(layers, concatenated(v), rows: rows), doubles(w)).reduce(0) { $0 + $1.0 * $1.1 }
        }
        assertClose(doubles(g), numerical, atol: 1e-5, rtol: 1e-4, "dL/dx")
        XCTAssertGreaterThan(numerical.map(abs).max()!, 0.01)
    }

    /// ∇_x D by hand for D = w2ᵀ leaky(W1ᵀ v + b1) + b2, taking the x rows of W1 only.
    private func refInputGradient(_ p: [Double], _ d1: Dense, _ x: [Double]) -> [Double] {
        let nin = d1.inputSize, n1 = nin * 7
        let v = concatenated(x)
        var g: [Double] = []
        for r in 0..<rows {
            let a = (0..<7).map { j in p[n1 + j] + (0..<nin).reduce(0) { $0 + v[r * nin + $1] * p[$1 * 7 + j] } }
            let delta = (0..<7).map { p[n1 + 7 + $0] * (a[$0] > 0 ? 1 : 0.2) }
            g += (0..<width).map { i in (0..<7).reduce(0) { $0 + delta[$1] * p[i * 7 + $1] } }
        }
        return g
    }

    /// P = Σ_r (‖∇_x D(x_r, y_r)‖ - 1)²: ∂P/∂θ by the double backward against finite differences.
    func testPenaltyGradientThroughTheLabelMatchesFiniteDifferences() {
        for seed: UInt64 in [6, 7] {
            let (net, d1, d2) = makeNetwork(seed: seed)
            let x = randomMatrix(rows, width, low: -2, high: 2, seed: seed + 10)
            net.zeroGradients()
            _ = net.forward(x, training: false)
            let g = doubles(net.differentiableInputGradient(Matrix(rows: rows, cols: 1, repeating: 1)))
            let flat = flatParameters(d1, d2)
            assertClose(g, refInputGradient(flat, d1, doubles(x)), atol: 1e-5, rtol: 1e-4, "∇x D")
            var u = [Float](repeating: 0, count: g.count)
            for r in 0..<rows {
                let row = g[(r * width)..<((r + 1) * width)]
                let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
                for i in 0..<width { u[r * width + i] = Float(2 * (norm - 1) * g[r * width + i] / norm) }
            }
            _ = net.backwardOfInputGradient(Matrix(rows: rows, cols: width, elements: u))
            let numerical = numericalGradient(flat) { p in
                let g = refInputGradient(p, d1, doubles(x))
                return (0..<rows).reduce(0) { s, r in
                    let n = g[(r * width)..<((r + 1) * width)].reduce(0) { $0 + $1 * $1 }.squareRoot()
                    return s + (n - 1) * (n - 1)
                }
            }
            let analytic = doubles(d1.weight.gradient) + doubles(d1.bias.gradient) + doubles(d2.weight.gradient)
                + doubles(d2.bias.gradient)
            assertClose(analytic, numerical, atol: 2e-4, rtol: 2e-3, "∂P/∂θ seed \(seed)")
            XCTAssertNil(net.secondOrderProblem)
        }
    }

    /// Labels are copied (the caller's array is not retained) and can repeat for stacked rows.
    func testLabelsAreCopiedAndRepeatForStackedRows() {
        let (net, _, _) = makeNetwork(seed: 8)
        let x = randomMatrix(rows, width, seed: 9)
        let single = net.forward(x, training: false)
        var stacked = Matrix(rows: 2 * rows, cols: width)
        stacked.setRows(x, at: 0)
        stacked.setRows(x, at: rows)
        var mine = labels
        net.setLabels(count: 2 * rows) { mine[$0 % self.rows] }
        mine[0] = 1   // a later change of the caller's array must not reach the layer
        let both = net.forward(stacked, training: false)
        // To rounding, not bit for bit: OpenBLAS's SSE kernels (`Prescott`, its fallback on
        // CPUs 0.3.21 does not know) round a row differently at another batch size. A wrong or
        // shared label moves an output by about a weight (~0.1).
        assertClose(doubles(both.rows(0..<rows)), doubles(single), atol: 1e-5, rtol: 1e-5, "first copy")
        assertClose(doubles(both.rows(rows..<(2 * rows))), doubles(single), atol: 1e-5, rtol: 1e-5, "second copy")
    }
}

extension LabelConditionedTests {
    /// Labels set on the outer wrapper reach a `LabelConditioned` nested in its network (a
    /// label entering a later layer too): the output is the reference with the label at both.
    func testNestedConditioningGetsTheSameLabels() {
        var rng = Xoshiro256(seed: 11)
        let d1 = Dense(inputSize: 2 + 3, outputSize: 4, activation: .relu, initializer: .glorotUniform, rng: &rng)
        let d2 = Dense(inputSize: 4 + 3, outputSize: 1, initializer: .glorotUniform, rng: &rng)
        let net = LabelConditioned(Sequential([d1, LabelConditioned(d2, numClasses: 3)]), numClasses: 3)
        let y: [Int32] = [2, 0]
        net.setLabels(y)
        let x = randomMatrix(2, 2, seed: 12)
        let out = doubles(net.forward(x, training: false))
        for r in 0..<2 {
            let onehot = (0..<3).map { $0 == Int(y[r]) ? 1.0 : 0.0 }
            let h = refForward([.dense(w: doubles(d1.weight.value), b: doubles(d1.bias.value), nin: 5, nout: 4, act: .relu)],
                               doubles(x.row(r)) + onehot, rows: 1)
            let o = refForward([.dense(w: doubles(d2.weight.value), b: doubles(d2.bias.value), nin: 7, nout: 1, act: .identity)],
                               h + onehot, rows: 1)
            XCTAssertEqual(out[r], o[0], accuracy: 1e-5)
        }
    }
}
