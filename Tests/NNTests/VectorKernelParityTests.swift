import CVectorMath
import Linalg
import XCTest

@testable import NN

/// The AVX-512 element-wise kernels (CVectorMath's elementwise.h) promise the same bits as the
/// portable Swift loops they replace on every input (same operations, same order, no FMA). The
/// portable loops are checked against PyTorch and libm elsewhere (OptimizerTests, LossTests,
/// FastMathTests); these tests compare the two lane by lane, tails and special values included.
final class VectorKernelParityTests: XCTestCase {
    /// Values that reach every branch: signed zeros, subnormals, huge, the exp clamps, NaN, inf.
    private let specials: [Float] = [0, -0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, 1e-38, 3e38, -3e38, 88, 88.5, -87.2, -87.3, -87.4,
                                     -100, 100, .infinity, -.infinity, .nan, 1e-7, -1e-7, 0.34657, 0.5, -0.5]

    private func randomValues(_ count: Int, scale: Float, seed: UInt64) -> [Float] {
        var rng = Xoshiro256(seed: seed)
        return (0..<count).map { _ in (rng.nextFloat() * 2 - 1) * scale }
    }

    private func assertSameBits(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        for i in a.indices where !(a[i].isNaN && b[i].isNaN) && a[i].bitPattern != b[i].bitPattern {
            XCTFail("\(what)[\(i)]: portable \(a[i]) (0x\(String(a[i].bitPattern, radix: 16))), AVX-512 \(b[i]) (0x\(String(b[i].bitPattern, radix: 16)))",
                    file: file, line: line)
            return
        }
    }

    private func requireAVX512() throws {
        guard ElementwiseKernels.isAvailable else { throw XCTSkip("this CPU has no AVX-512F: only the portable loops run") }
    }

    /// Adam with and without decay, over a range that starts off a 16-lane boundary and ends in a
    /// short block; moments from earlier steps, gradients with special values.
    func testAdamKernelMatchesPortableLoopBitForBit() throws {
        try requireAVX512()
        let n = 1_000 + 37
        var x0 = randomValues(n, scale: 2, seed: 1), g0 = randomValues(n, scale: 0.1, seed: 2)
        let m0 = randomValues(n, scale: 0.01, seed: 3)
        let v0 = randomValues(n, scale: 1e-4, seed: 4).map { $0 * $0 }
        for (i, s) in specials.enumerated() { g0[100 + i] = s; x0[200 + i] = s }
        for decay in [false, true] {
            var results: [[Float]] = []
            for avx in [false, true] {
                var x = x0, g = g0, m = m0, v = v0
                x.withUnsafeMutableBufferPointer { xp in g.withUnsafeMutableBufferPointer { gp in
                    m.withUnsafeMutableBufferPointer { mp in v.withUnsafeMutableBufferPointer { vp in
                        let s = AdamSlice(x: xp.baseAddress!, g: UnsafePointer(gp.baseAddress!), m: mp.baseAddress!,
                                          v: vp.baseAddress!, b1: 0.9, b2: 0.999, l2: decay ? 0.01 : 0,
                                          shrink: decay ? 0.9999 : 1, stepSize: 1e-3 / 0.19, invBc2Sqrt: 1 / 0.0447,
                                          eps: 1e-8)
                        // Two calls, as ParallelFor splits: the second starts mid-block.
                        if avx {
                            s.updateAVX512(3, 517, decay: decay); s.updateAVX512(517, n, decay: decay)
                        } else if decay {
                            s.update(3, 517); s.update(517, n)
                        } else {
                            s.updateNoDecay(3, 517); s.updateNoDecay(517, n)
                        }
                    } }
                } }
                XCTAssertEqual(x[0..<3], x0[0..<3], "elements before start must not be touched")
                results.append(x + m + v)
            }
            assertSameBits(results[0], results[1], decay ? "Adam with decay x|m|v" : "Adam x|m|v")
        }
    }

    /// BCE with logits on logits over the whole exp range, the clamps and specials, with soft
    /// and hard targets, in lengths that end in every partial block.
    func testBCEKernelMatchesPortableLoopBitForBit() throws {
        try requireAVX512()
        var logits = randomValues(4_096, scale: 30, seed: 5) + randomValues(1_024, scale: 1, seed: 6)
        logits += randomValues(512, scale: 120, seed: 7) + specials
        let targets = randomValues(logits.count, scale: 1, seed: 8).enumerated().map { i, u in
            i % 3 == 0 ? (u > 0 ? 1 : 0) : Swift.abs(u)
        }
        for count in [logits.count, 1, 15, 16, 17, 255] {
            var outputs: [[Float]] = []
            for avx in [false, true] {
                var grad = [Float](repeating: 7, count: count), loss = [Float](repeating: 7, count: count)
                let x = Array(logits.suffix(count)), t = Array(targets.suffix(count))
                grad.withUnsafeMutableBufferPointer { gp in loss.withUnsafeMutableBufferPointer { lp in
                    if avx {
                        ew_bce_logits(x, t, gp.baseAddress!, lp.baseAddress!, count, 0.25)
                    } else {
                        Loss.bceLogitsBlock(x, t, gp.baseAddress!, lp.baseAddress!, count, 0.25)
                    }
                } }
                outputs.append(loss + grad)
            }
            assertSameBits(outputs[0], outputs[1], "BCE loss|grad, \(count) elements")
        }
    }

    /// Bias and activation for every activation the kernel runs, with and without a bias, over
    /// rows of 37 columns (two full blocks and a short one), inputs from the whole exp range,
    /// the tanh polynomial's edge (|x| = 0.625) and specials.
    func testBiasActivationKernelMatchesPortableLoopBitForBit() throws {
        try requireAVX512()
        let rows = 40, cols = 37
        var input = randomValues(rows * cols - specials.count - 4, scale: 12, seed: 9) + specials
        input += [0.625, -0.625, 0.62499994, -0.62499994]
        let bias = randomValues(cols, scale: 0.5, seed: 10)
        let activations: [Activation] = [.identity, .relu, .leakyReLU(negativeSlope: 0.2), .sigmoid, .tanh]
        for act in activations {
            for withBias in [false, true] {
                var outputs: [[Float]] = []
                for avx in [false, true] {
                    var y = input
                    y.withUnsafeMutableBufferPointer { yp in bias.withUnsafeBufferPointer { bp in
                        let b = withBias ? bp.baseAddress : nil
                        if avx {
                            let (kind, slope) = ActivationKernels.avx512Kind(act)!
                            ew_bias_act(yp.baseAddress!, rows, cols, b, kind, slope)
                        } else {
                            ActivationKernels.biasActivatePortable(yp.baseAddress!, rows: rows, cols: cols, bias: b, act)
                        }
                    } }
                    outputs.append(y)
                }
                assertSameBits(outputs[0], outputs[1], "\(act) \(withBias ? "with" : "without") bias")
            }
        }
        XCTAssertNil(ActivationKernels.avx512Kind(.softplus), "softplus stays on the portable loop")
    }
}
