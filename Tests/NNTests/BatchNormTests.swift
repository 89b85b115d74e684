import Foundation
import XCTest
import Linalg
@testable import NN

/// BatchNorm (1-D and 2-D) against a Double reference (`refBatchNormTrain`) and central
/// differences of it (h = 1e-5, loss `Σ Y ⊙ R`); running statistics and eval mode against the
/// formulas of `torch.nn.functional.batch_norm` written out here. Tolerances: forward 2e-5
/// abs + 1e-5 rel; gradients 2e-4 abs + 1e-3 rel (BatchNorm is not linear: the differences
/// carry O(h²) error on top of Float rounding).
final class BatchNormTests: XCTestCase {
    /// (batch, channels, spatial) for BatchNorm2d 3x2x(2x2) and BatchNorm1d 5x3.
    static let shapes: [(n: Int, c: Int, h: Int, w: Int, oneD: Bool)] = [(3, 2, 2, 2, false), (5, 3, 1, 1, true)]

    static func make(_ s: (n: Int, c: Int, h: Int, w: Int, oneD: Bool), seed: UInt64) -> BatchNorm {
        let bn = s.oneD ? BatchNorm1d(features: s.c) : BatchNorm2d(channels: s.c, height: s.h, width: s.w)
        bn.weight.value = randomMatrix(1, s.c, low: 0.5, high: 1.5, seed: seed)
        bn.bias.value = randomMatrix(1, s.c, seed: seed + 1)
        return bn
    }

    func testTrainingForwardAndGradientsMatchReference() {
        for (i, s) in Self.shapes.enumerated() {
            let bn = Self.make(s, seed: 10 + UInt64(i))
            let spatial = s.h * s.w, f = s.c * spatial
            let x = randomMatrix(s.n, f, low: -2, high: 3, seed: 20 + UInt64(i))
            let r = randomMatrix(s.n, f, seed: 30 + UInt64(i))
            let y = bn.forward(x, training: true)
            let dx = bn.backward(r)
            let xd = doubles(x), g = doubles(bn.weight.value), b = doubles(bn.bias.value), rd = doubles(r)
            func loss(_ x: [Double], _ g: [Double], _ b: [Double]) -> Double {
                dot(refBatchNormTrain(x, gamma: g, beta: b, n: s.n, c: s.c, spatial: spatial).y, rd)
            }
            let what = s.oneD ? "BatchNorm1d" : "BatchNorm2d"
            assertClose(doubles(y), refBatchNormTrain(xd, gamma: g, beta: b, n: s.n, c: s.c, spatial: spatial).y,
                        atol: 2e-5, rtol: 1e-5, "\(what) forward")
            assertClose(doubles(dx), numericalGradient(xd) { loss($0, g, b) }, atol: 2e-4, rtol: 1e-3, "\(what) dX")
            assertClose(doubles(bn.weight.gradient), numericalGradient(g) { loss(xd, $0, b) }, atol: 2e-4, rtol: 1e-3, "\(what) dγ")
            assertClose(doubles(bn.bias.gradient), numericalGradient(b) { loss(xd, g, $0) }, atol: 2e-4, rtol: 1e-3, "\(what) dβ")
        }
    }

    /// Two training steps: `running = 0.9 running + 0.1 batch` from mean 0 / var 1, with the
    /// unbiased variance `σ² M / (M - 1)`; then eval normalises with the running statistics and
    /// changes nothing.
    func testRunningStatisticsAndEvalMode() {
        for (i, s) in Self.shapes.enumerated() {
            let bn = Self.make(s, seed: 40 + UInt64(i))
            let spatial = s.h * s.w, f = s.c * spatial, m = Double(s.n * spatial)
            var rm = [Double](repeating: 0, count: s.c), rv = [Double](repeating: 1, count: s.c)
            for step in 0..<2 {
                let x = randomMatrix(s.n, f, low: -1, high: 2, seed: 50 + UInt64(10 * i + step))
                _ = bn.forward(x, training: true)
                let ref = refBatchNormTrain(doubles(x), gamma: Array(repeating: 1, count: s.c), beta: Array(repeating: 0, count: s.c), n: s.n, c: s.c, spatial: spatial)
                for c in 0..<s.c {
                    rm[c] = 0.9 * rm[c] + 0.1 * ref.mean[c]
                    rv[c] = 0.9 * rv[c] + 0.1 * ref.variance[c] * m / (m - 1)
                }
            }
            XCTAssertEqual(bn.numBatchesTracked, 2)
            assertClose(doubles(bn.runningMean), rm, atol: 1e-6, rtol: 1e-5, "running_mean")
            assertClose(doubles(bn.runningVar), rv, atol: 1e-6, rtol: 1e-5, "running_var")

            let x = randomMatrix(s.n, f, low: -3, high: 3, seed: 70 + UInt64(i))
            let y = bn.forward(x, training: false)
            let g = doubles(bn.weight.value), b = doubles(bn.bias.value), xd = doubles(x)
            var expected = xd
            for j in 0..<xd.count {
                let c = (j % f) / spatial
                expected[j] = g[c] * (xd[j] - rm[c]) / (rv[c] + 1e-5).squareRoot() + b[c]
            }
            assertClose(doubles(y), expected, atol: 2e-5, rtol: 1e-5, "eval forward")
            XCTAssertEqual(bn.numBatchesTracked, 2, "eval does not count")
            assertClose(doubles(bn.runningMean), rm, atol: 1e-6, rtol: 1e-5, "eval leaves running_mean")
        }
    }

    func testFrozenAndNoInputGradient() {
        let s = Self.shapes[0]
        let live = Self.make(s, seed: 1), frozen = Self.make(s, seed: 1), noInput = Self.make(s, seed: 1)
        frozen.isFrozen = true
        noInput.computesInputGradient = false
        let x = randomMatrix(s.n, 8, seed: 2), r = randomMatrix(s.n, 8, seed: 3)
        var dx: [Matrix] = []
        for l in [live, frozen, noInput] { _ = l.forward(x, training: true); dx.append(l.backward(r)) }
        XCTAssertEqual(dx[0], dx[1])
        XCTAssertEqual(dx[2], .empty)
        XCTAssertTrue(frozen.weight.gradient.elements.allSatisfy { $0 == 0 } && frozen.bias.gradient.elements.allSatisfy { $0 == 0 })
        XCTAssertEqual(live.weight.gradient, noInput.weight.gradient)
        XCTAssertEqual(live.bias.gradient, noInput.bias.gradient)
    }

    /// PyTorch's names, shapes and kinds; buffers are saved and loaded but are not parameters.
    func testStateEntriesAreParametersThenBuffers() throws {
        let bn = BatchNorm2d(channels: 3, height: 2, width: 2)
        XCTAssertEqual(bn.stateEntries.map(\.name), ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        XCTAssertEqual(bn.stateEntries.map(\.shape), [[3], [3], [3], [3], []])
        XCTAssertEqual(bn.stateEntries.map(\.kind), [.parameter, .parameter, .buffer, .buffer, .buffer])
        XCTAssertEqual(ParameterGroup(bn).count, 6, "only γ and β are optimised")
        _ = bn.forward(randomMatrix(4, 12, seed: 1), training: true)
        _ = bn.forward(randomMatrix(4, 12, seed: 2), training: true)
        let copy = BatchNorm2d(channels: 3, height: 2, width: 2)
        try copy.loadStateDict(Dictionary(uniqueKeysWithValues: bn.stateDict()))
        XCTAssertEqual(copy.runningMean, bn.runningMean)
        XCTAssertEqual(copy.runningVar, bn.runningVar)
        XCTAssertEqual(copy.numBatchesTracked, 2)
    }
}
