import Foundation
import XCTest
import Linalg
@testable import NN

/// Conv2d and ConvTranspose2d against direct Double loops (`refConv2d`, `refConvTranspose2d`):
/// forward values, and dX, dW, db against central differences of the Double reference with
/// loss `Σ Y ⊙ R` (h = 1e-5; both ops are linear in X and in (W, b), so the differences are
/// exact up to ~1e-10 rounding). Tolerances: forward 1e-5 abs + 1e-5 rel, gradients 1e-4 abs +
/// 1e-4 rel (Float sums of up to ~400 products of magnitude <= 1).
/// Cases: every kernel/stride/padding a 28x28 DCGAN uses (PyTorch-style k4 s2 p1, the
/// TensorFlow tutorial's k5 s2 p2 with output_padding 1, k3 s1 p1, the 7x7 valid projection),
/// plus odd, non-square and bias-free shapes.
final class ConvTests: XCTestCase {
    static let conv2dCases: [ConvCase] = [
        ConvCase(n: 2, c: 1, h: 28, w: 28, o: 3, k: 4, s: 2, p: 1),
        ConvCase(n: 2, c: 2, h: 14, w: 14, o: 3, k: 4, s: 2, p: 1),
        ConvCase(n: 2, c: 2, h: 7, w: 7, o: 2, k: 4, s: 2, p: 1),
        ConvCase(n: 2, c: 2, h: 7, w: 7, o: 2, k: 3, s: 1, p: 1),
        ConvCase(n: 2, c: 1, h: 28, w: 28, o: 2, k: 5, s: 2, p: 2),
        ConvCase(n: 2, c: 2, h: 14, w: 14, o: 2, k: 5, s: 2, p: 2),
        ConvCase(n: 3, c: 3, h: 7, w: 7, o: 1, k: 7, s: 1, p: 0),
        ConvCase(n: 2, c: 2, h: 6, w: 5, o: 3, k: 3, s: 1, p: 0, bias: false),
        ConvCase(n: 2, c: 2, h: 5, w: 6, o: 2, k: 2, s: 3, p: 2),
    ]

    static let transposeCases: [ConvCase] = [
        ConvCase(n: 2, c: 3, h: 7, w: 7, o: 2, k: 4, s: 2, p: 1),
        ConvCase(n: 2, c: 2, h: 14, w: 14, o: 1, k: 4, s: 2, p: 1),
        ConvCase(n: 2, c: 2, h: 7, w: 7, o: 2, k: 5, s: 2, p: 2, outputPadding: 1),
        ConvCase(n: 2, c: 2, h: 14, w: 14, o: 1, k: 5, s: 2, p: 2, outputPadding: 1),
        ConvCase(n: 2, c: 3, h: 7, w: 7, o: 2, k: 5, s: 1, p: 2),
        ConvCase(n: 2, c: 2, h: 7, w: 7, o: 2, k: 3, s: 1, p: 1),
        ConvCase(n: 3, c: 4, h: 1, w: 1, o: 2, k: 7, s: 1, p: 0),
        ConvCase(n: 2, c: 2, h: 3, w: 4, o: 3, k: 3, s: 2, p: 1, outputPadding: 1, bias: false),
        ConvCase(n: 2, c: 2, h: 3, w: 3, o: 2, k: 2, s: 3, p: 0, outputPadding: 2),
    ]

    /// Checks every `every`-th input element (the 28x28 inputs), all weights.
    static func every(_ count: Int) -> Int { Swift.max(1, count / 200) }

    func testConv2dMatchesDirectLoopsAndFiniteDifferences() {
        for (i, cc) in Self.conv2dCases.enumerated() {
            var rng = Xoshiro256(seed: 40 + UInt64(i))
            let layer = Conv2d(inChannels: cc.c, outChannels: cc.o, kernel: cc.k, stride: cc.s, padding: cc.p,
                               bias: cc.bias, inputHeight: cc.h, inputWidth: cc.w, rng: &rng)
            XCTAssertEqual([layer.outputHeight, layer.outputWidth], [cc.convOut.h, cc.convOut.w], "\(cc)")
            let outSize = cc.o * cc.convOut.h * cc.convOut.w
            XCTAssertEqual(layer.outputFeatures(for: cc.c * cc.h * cc.w), outSize)
            let x = randomMatrix(cc.n, cc.c * cc.h * cc.w, seed: 100 + UInt64(i))
            let r = randomMatrix(cc.n, outSize, seed: 200 + UInt64(i))
            let y = layer.forward(x, training: true)
            let dx = layer.backward(r)
            let xd = doubles(x), wd = doubles(layer.weight.value), rd = doubles(r)
            let bd = layer.bias.map { doubles($0.value) } ?? []
            assertClose(doubles(y), refConv2d(xd, wd, bd, cc), atol: 1e-5, rtol: 1e-5, "\(cc) forward")
            let e = Self.every(xd.count)
            assertCloseAt(every: e, doubles(dx), numericalGradient(xd, every: e) { dot(refConv2d($0, wd, bd, cc), rd) },
                          atol: 1e-4, rtol: 1e-4, "\(cc) dX")
            assertClose(doubles(layer.weight.gradient), numericalGradient(wd) { dot(refConv2d(xd, $0, bd, cc), rd) },
                        atol: 1e-4, rtol: 1e-4, "\(cc) dW")
            if let bias = layer.bias {
                assertClose(doubles(bias.gradient), numericalGradient(bd) { dot(refConv2d(xd, wd, $0, cc), rd) },
                            atol: 1e-4, rtol: 1e-4, "\(cc) db")
            }
        }
    }

    func testConvTranspose2dMatchesDirectLoopsAndFiniteDifferences() {
        for (i, cc) in Self.transposeCases.enumerated() {
            var rng = Xoshiro256(seed: 60 + UInt64(i))
            let layer = ConvTranspose2d(inChannels: cc.c, outChannels: cc.o, kernel: cc.k, stride: cc.s, padding: cc.p,
                                        outputPadding: cc.outputPadding, bias: cc.bias,
                                        inputHeight: cc.h, inputWidth: cc.w, rng: &rng)
            XCTAssertEqual([layer.outputHeight, layer.outputWidth], [cc.transposeOut.h, cc.transposeOut.w], "\(cc)")
            let outSize = cc.o * cc.transposeOut.h * cc.transposeOut.w
            XCTAssertEqual(layer.outputFeatures(for: cc.c * cc.h * cc.w), outSize)
            let x = randomMatrix(cc.n, cc.c * cc.h * cc.w, seed: 300 + UInt64(i))
            let r = randomMatrix(cc.n, outSize, seed: 400 + UInt64(i))
            let y = layer.forward(x, training: true)
            let dx = layer.backward(r)
            let xd = doubles(x), wd = doubles(layer.weight.value), rd = doubles(r)
            let bd = layer.bias.map { doubles($0.value) } ?? []
            assertClose(doubles(y), refConvTranspose2d(xd, wd, bd, cc), atol: 1e-5, rtol: 1e-5, "\(cc) forward")
            assertClose(doubles(dx), numericalGradient(xd) { dot(refConvTranspose2d($0, wd, bd, cc), rd) },
                        atol: 1e-4, rtol: 1e-4, "\(cc) dX")
            let e = Self.every(wd.count)
            assertCloseAt(every: e, doubles(layer.weight.gradient),
                          numericalGradient(wd, every: e) { dot(refConvTranspose2d(xd, $0, bd, cc), rd) },
                          atol: 1e-4, rtol: 1e-4, "\(cc) dW")
            if let bias = layer.bias {
                assertClose(doubles(bias.gradient), numericalGradient(bd) { dot(refConvTranspose2d(xd, wd, $0, cc), rd) },
                            atol: 1e-4, rtol: 1e-4, "\(cc) db")
            }
        }
    }

    /// ConvTranspose2d is the adjoint of Conv2d with the same weight tensor:
    /// `<conv(x), y> = <x, convT(y)>` with no bias (Dumoulin & Visin 2016).
    func testConvTransposeIsTheAdjointOfConv() {
        var rng = Xoshiro256(seed: 9)
        let conv = Conv2d(inChannels: 3, outChannels: 4, kernel: 5, stride: 2, padding: 2, bias: false,
                          inputHeight: 14, inputWidth: 14, rng: &rng)
        let convT = ConvTranspose2d(inChannels: 4, outChannels: 3, kernel: 5, stride: 2, padding: 2, outputPadding: 1,
                                    bias: false, inputHeight: 7, inputWidth: 7, rng: &rng)
        convT.weight.value = conv.weight.value
        let x = randomMatrix(2, 3 * 14 * 14, seed: 1), y = randomMatrix(2, 4 * 7 * 7, seed: 2)
        let lhs = dot(doubles(conv.forward(x, training: false)), doubles(y))
        let rhs = dot(doubles(x), doubles(convT.forward(y, training: false)))
        XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * abs(lhs) + 1e-4)
    }

    /// Frozen: no dW/db, the same dX. No input gradient: `Matrix.empty`, the same dW/db.
    /// Gradients accumulate across backward passes; a smaller batch afterwards is still right.
    func testFreezingInputGradientAccumulationAndBatchChange() {
        for transpose in [false, true] {
            func make() -> any Layer {
                var rng = Xoshiro256(seed: 5)
                return transpose
                    ? ConvTranspose2d(inChannels: 2, outChannels: 3, kernel: 4, stride: 2, padding: 1,
                                      inputHeight: 4, inputWidth: 4, rng: &rng)
                    : Conv2d(inChannels: 2, outChannels: 3, kernel: 4, stride: 2, padding: 1,
                             inputHeight: 8, inputWidth: 8, rng: &rng)
            }
            let live = make(), frozen = make(), noInput = make()
            frozen.isFrozen = true
            noInput.computesInputGradient = false
            let x = randomMatrix(3, 2 * (transpose ? 16 : 64), seed: 7)
            let r = randomMatrix(3, live.outputFeatures(for: x.cols)!, seed: 8)
            var results: [Matrix] = []
            for l in [live, frozen, noInput] { _ = l.forward(x, training: true); results.append(l.backward(r)) }
            XCTAssertEqual(results[0], results[1], "dX must not depend on freezing (transpose \(transpose))")
            XCTAssertEqual(results[2], .empty)
            XCTAssertTrue(frozen.parameters.allSatisfy { $0.gradient.elements.allSatisfy { $0 == 0 } })
            XCTAssertTrue(frozen.parameters.allSatisfy(\.isFrozen))
            XCTAssertEqual(live.parameters.map(\.gradient), noInput.parameters.map(\.gradient))
            let once = live.parameters.map { doubles($0.gradient) }
            _ = live.forward(x, training: true); _ = live.backward(r)
            for (p, g) in zip(live.parameters, once) {
                assertClose(doubles(p.gradient), g.map { 2 * $0 }, atol: 1e-5, rtol: 1e-5, "accumulated \(p.name)")
            }
            // Batch 3 then 2: buffers shrink in place, results equal the first two rows' results.
            let y3 = live.forward(x, training: true).rows(0..<2).elements
            XCTAssertEqual(live.forward(x.rows(0..<2), training: true).elements, y3)
        }
    }

    /// PyTorch's default initialisation: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with fanIn = in·k² for
    /// Conv2d and out·k² for ConvTranspose2d (weight dimension 1 times the kernel area).
    func testDefaultInitialisationBounds() {
        var rng = Xoshiro256(seed: 3)
        let conv = Conv2d(inChannels: 4, outChannels: 8, kernel: 3, inputHeight: 5, inputWidth: 5, rng: &rng)
        let convT = ConvTranspose2d(inChannels: 8, outChannels: 2, kernel: 4, stride: 2, padding: 1,
                                    inputHeight: 3, inputWidth: 3, rng: &rng)
        for (l, bound) in [(conv as any Layer, 1 / 6.0), (convT, 1 / Double(32).squareRoot())] {
            for p in l.parameters {
                let v = doubles(p.value)
                XCTAssertTrue(v.allSatisfy { abs($0) <= bound }, "\(p.name) within ±\(bound)")
                if v.count >= 64 { XCTAssertGreaterThan(v.map(abs).max()!, 0.9 * bound, "\(p.name) spans its range") }
            }
        }
        XCTAssertEqual(conv.stateEntries.map(\.shape), [[8, 4, 3, 3], [8]])
        XCTAssertEqual(convT.stateEntries.map(\.shape), [[8, 2, 4, 4], [2]])
    }
}

final class ConvBufferReuseTests: XCTestCase {
    /// A steady-state step through every new layer reuses the output and dX buffers
    /// (scripts/conv-strategy-bench counts 0 heap allocations per step with single-threaded
    /// OpenBLAS or the row split).
    func testStepsReuseBuffers() {
        var rng = Xoshiro256(seed: 4)
        let net = Sequential([
            Unflatten(channels: 2, height: 4, width: 4),
            ConvTranspose2d(inChannels: 2, outChannels: 3, kernel: 4, stride: 2, padding: 1, inputHeight: 4, inputWidth: 4, rng: &rng),
            BatchNorm2d(channels: 3, height: 8, width: 8), Dropout(probability: 0.2, seed: 1),
            Conv2d(inChannels: 3, outChannels: 2, kernel: 3, stride: 1, padding: 1, inputHeight: 8, inputWidth: 8, rng: &rng),
            Flatten(), BatchNorm1d(features: 128),
        ])
        let x = randomMatrix(4, 32, seed: 1), g = randomMatrix(4, 128, seed: 2)
        func step() -> (Int, Int) {
            let y = net.forward(x, training: true)
            let dx = net.backward(g)
            return (address(y), address(dx))
        }
        let first = step(), second = step()
        XCTAssertEqual(first.0, second.0, "output buffer reallocated")
        XCTAssertEqual(first.1, second.1, "dX buffer reallocated")
    }
}
