import Foundation
import XCTest
import Linalg
@testable import NN

final class DenseTests: XCTestCase {
    static let activations: [Activation] = [
        .identity, .relu, .leakyReLU(negativeSlope: 0.1), .sigmoid, .tanh, .softplus,
    ]

    /// Loss `sum(Y ⊙ R)` so dLoss/dY = R. Analytic gradients (Float) against central differences
    /// of an independent Double forward (h = 1e-5). Tolerance 2e-4 absolute + 1e-3 relative:
    /// Float gemm rounding is ~1e-6 here, the finite difference error ~1e-9.
    func testGradientsForEachFusedActivation() {
        for (n, act) in Self.activations.enumerated() {
            var rng = Xoshiro256(seed: 100 + UInt64(n))
            let layer = Dense(inputSize: 4, outputSize: 3, activation: act,
                              initializer: .glorotUniform, rng: &rng)
            layer.bias.value = randomMatrix(1, 3, seed: 7)   // nonzero bias
            let x = randomMatrix(5, 4, low: -2, high: 2, seed: 11 + UInt64(n))
            let r = randomMatrix(5, 3, seed: 23)
            let y = layer.forward(x, training: true)
            let dx = layer.backward(r)

            let w = doubles(layer.weight.value), b = doubles(layer.bias.value)
            let xd = doubles(x), rd = doubles(r)
            func loss(_ x: [Double], _ w: [Double], _ b: [Double]) -> Double {
                let y = refForward([.dense(w: w, b: b, nin: 4, nout: 3, act: act)], x, rows: 5)
                return zip(y, rd).reduce(0) { $0 + $1.0 * $1.1 }
            }
            assertClose(doubles(y), refForward([.dense(w: w, b: b, nin: 4, nout: 3, act: act)], xd, rows: 5),
                        atol: 1e-5, rtol: 1e-5, "\(act) forward")
            assertClose(doubles(dx), numericalGradient(xd) { loss($0, w, b) },
                        atol: 2e-4, rtol: 1e-3, "\(act) dX")
            assertClose(doubles(layer.weight.gradient), numericalGradient(w) { loss(xd, $0, b) },
                        atol: 2e-4, rtol: 1e-3, "\(act) dW")
            assertClose(doubles(layer.bias.gradient), numericalGradient(b) { loss(xd, w, $0) },
                        atol: 2e-4, rtol: 1e-3, "\(act) db")
        }
    }

    /// A layer wide enough for the packed kernels (on AVX-512): forward and dX against the
    /// Double reference, before and after an optimiser step changes the weight (the panels
    /// must follow), and at a batch above `PackedPanels.maximumRows` (OpenBLAS again).
    func testPackedWeightPathAgainstReference() {
        var rng = Xoshiro256(seed: 31)
        let layer = Dense(inputSize: 24, outputSize: 40, activation: .leakyReLU(negativeSlope: 0.1), rng: &rng)
        layer.bias.value = randomMatrix(1, 40, seed: 32)
        XCTAssertEqual(layer.weight.packing != nil, PackedPanels.isAvailable)
        XCTAssertNil(Dense(inputSize: 4, outputSize: 3, rng: &rng).weight.packing, "thin layers stay on OpenBLAS")
        let sgd = SGD(parameters: layer.parameters, learningRate: 0.5)
        for (step, batch) in [9, 9, PackedPanels.maximumRows + 3].enumerated() {
            let x = randomMatrix(batch, 24, seed: 40 + UInt64(step)), r = randomMatrix(batch, 40, seed: 50 + UInt64(step))
            let w = doubles(layer.weight.value), b = doubles(layer.bias.value)
            let y = layer.forward(x, training: true)
            let dx = layer.backward(r)
            let ref = refForward([.dense(w: w, b: b, nin: 24, nout: 40, act: .identity)], doubles(x), rows: batch)
            assertClose(doubles(y), ref.map { refActivation(.leakyReLU(negativeSlope: 0.1), $0) },
                        atol: 1e-5, rtol: 1e-5, "step \(step) forward")
            let dz = zip(ref, doubles(r)).map { z, g in z >= 0 ? g : 0.1 * g }
            var expected = [Double](repeating: 0, count: batch * 24)
            for i in 0..<batch {
                for k in 0..<24 {
                    var sum = 0.0
                    for j in 0..<40 { sum += dz[i * 40 + j] * w[k * 40 + j] }
                    expected[i * 24 + k] = sum
                }
            }
            assertClose(doubles(dx), expected, atol: 1e-5, rtol: 1e-5, "step \(step) dX")
            sgd.step()
            layer.zeroGradients()
        }
    }

    /// dX of a packed layer runs our kernel with W read from the panels its forward uses
    /// (`gemmTransposedB(_:packed:into:scratch:)`, the same bits as over W row-major), whichever
    /// they are (its own, or shared ones given by the replicas' update) and however often dX
    /// was turned off (a GAN trainer turns D's off and on every step): the same
    /// bits every time (a resumed run's first step takes the kernels of the run it resumes),
    /// within rounding of an unpacked twin's (OpenBLAS).
    func testInputGradientRunsOurKernelWhateverThePanels() throws {
        try XCTSkipUnless(PackedPanels.isAvailable, "no AVX-512F: no packed weights")
        var rng = Xoshiro256(seed: 33)
        let layer = Dense(inputSize: 24, outputSize: 40, rng: &rng)
        let plain = Dense(inputSize: 24, outputSize: 40, rng: &rng)
        plain.weight.value = layer.weight.value
        plain.bias.value = layer.bias.value
        plain.weight.packing = nil
        let x = randomMatrix(9, 24, seed: 34), r = randomMatrix(9, 40, seed: 35)
        _ = plain.forward(x, training: true)
        let reference = plain.backward(r)
        // No activation: dZ is r.
        var ours = Matrix(rows: 9, cols: 24)
        gemmTransposedB(r, layer.weight.value, into: &ours, scratch: TransposedBScratch())

        layer.computesInputGradient = false
        _ = layer.forward(x, training: true)
        XCTAssertEqual(layer.backward(r).count, 0, "a first layer")
        layer.computesInputGradient = true
        _ = layer.forward(x, training: true)
        let own = layer.backward(r)
        XCTAssertFalse(layer.weight.packing!.usesOthersPanels)
        XCTAssertEqual(own, ours)
        assertClose(doubles(own), doubles(reference), atol: 1e-5, rtol: 1e-5, "packed dX")

        let shared = PackedPanels(rows: 24, cols: 40)
        shared.pack(layer.weight.value, elements: 0..<layer.weight.value.count)
        layer.weight.packing!.packed(by: shared, for: layer.weight.value)
        _ = layer.forward(x, training: true)
        XCTAssertTrue(layer.weight.packing!.usesOthersPanels)
        XCTAssertEqual(layer.backward(r), ours, "with shared panels")
    }

    /// Beyond the size limits (128 rows, a 784 x 512 weight), dW runs our kernel exactly when
    /// OpenBLAS runs narrower kernels than ours (its `Prescott` fallback, `Haswell`), else
    /// OpenBLAS; either way it agrees with an unpacked twin's (OpenBLAS) to rounding.
    func testLargeWeightGradientFollowsOpenBLASKernels() throws {
        try XCTSkipUnless(PackedPanels.isAvailable, "no AVX-512F: no packed weights")
        var rng = Xoshiro256(seed: 38)
        let layer = Dense(inputSize: 784, outputSize: 512, activation: .leakyReLU(negativeSlope: 0.2), rng: &rng)
        let plain = Dense(inputSize: 784, outputSize: 512, activation: .leakyReLU(negativeSlope: 0.2), rng: &rng)
        plain.weight.value = layer.weight.value
        plain.bias.value = layer.bias.value
        plain.weight.packing = nil
        XCTAssertEqual(layer.ownsWeightGradient(rows: 128), OpenBLASCore.isNarrowerThanOurs, OpenBLASCore.name)
        XCTAssertFalse(plain.ownsWeightGradient(rows: 128))
        let x = randomMatrix(128, 784, seed: 39), r = randomMatrix(128, 512, seed: 40)
        for l in [layer, plain] {
            _ = l.forward(x, training: true)
            _ = l.backward(r)
        }
        assertClose(doubles(layer.weight.gradient), doubles(plain.weight.gradient), atol: 1e-4, rtol: 1e-4, "dW")
        XCTAssertFalse(layer.weight.gradient.elements.allSatisfy { $0 == 0 })
    }

    /// A packed layer at a batch of at most 64 rows takes dW from our kernel: the gradients of
    /// two accumulated backward passes agree with an unpacked twin's (OpenBLAS) to rounding.
    func testSmallBatchWeightGradientMatchesOpenBLAS() throws {
        try XCTSkipUnless(PackedPanels.isAvailable, "no AVX-512F: no packed weights")
        var rng = Xoshiro256(seed: 36)
        let layer = Dense(inputSize: 100, outputSize: 45, activation: .tanh, rng: &rng)
        let plain = Dense(inputSize: 100, outputSize: 45, activation: .tanh, rng: &rng)
        plain.weight.value = layer.weight.value
        plain.bias.value = layer.bias.value
        plain.weight.packing = nil
        for (step, batch) in [64, 13].enumerated() {
            let x = randomMatrix(batch, 100, seed: 37 + UInt64(step)), r = randomMatrix(batch, 45, seed: 47 + UInt64(step))
            for l in [layer, plain] {
                _ = l.forward(x, training: true)
                _ = l.backward(r)
            }
        }
        assertClose(doubles(layer.weight.gradient), doubles(plain.weight.gradient), atol: 1e-5, rtol: 1e-5, "dW")
        XCTAssertFalse(layer.weight.gradient.elements.allSatisfy { $0 == 0 })
    }

    func testGradientsAccumulateUntilZeroed() {
        var rng = Xoshiro256(seed: 1)
        let layer = Dense(inputSize: 3, outputSize: 2, activation: .tanh, rng: &rng)
        let x = randomMatrix(4, 3, seed: 2), r = randomMatrix(4, 2, seed: 3)
        _ = layer.forward(x, training: true); _ = layer.backward(r)
        let once = layer.weight.gradient.elements
        _ = layer.forward(x, training: true); _ = layer.backward(r)
        assertClose(layer.weight.gradient.elements.map(Double.init), once.map { 2 * Double($0) },
                    atol: 1e-6, rtol: 1e-6, "accumulated dW")
        layer.weight.zeroGradient()
        XCTAssertTrue(layer.weight.gradient.elements.allSatisfy { $0 == 0 })
    }

    /// After `zeroGradients()` dW is assigned by its product (no zeroing pass, the old values
    /// not read): the same bits as adding to a buffer zeroed by hand, on our kernel (a batch of
    /// 20) and on OpenBLAS (a batch of 90, over the kernel's limit), and a second backward adds.
    func testDWAssignedAfterZeroingEqualsAddingToZeros() {
        for batch in [20, 90] {
            var rng = Xoshiro256(seed: 11)
            let layer = Dense(inputSize: 40, outputSize: 48, activation: .relu, rng: &rng)
            let group = ParameterGroup(layer)
            let x = randomMatrix(batch, 40, seed: 12), r = randomMatrix(batch, 48, seed: 13)
            layer.weight.gradient = Matrix(rows: 40, cols: 48, repeating: .nan)
            group.zeroGradients()
            _ = layer.forward(x, training: true); _ = layer.backward(r)
            let first = layer.weight.gradient
            XCTAssertTrue(first.allFinite(), "batch \(batch): NaN from before zeroing survived")
            group.zeroGradients()
            _ = layer.forward(x, training: true); _ = layer.backward(r)
            XCTAssertEqual(group.gradients.elements.prefix(40 * 48).map(\.bitPattern),
                           first.elements.map(\.bitPattern), "batch \(batch): assigned")
            // Xᵀ dZ with ReLU's dZ = r where the output is positive, in Double.
            let y = layer.forward(x, training: true)
            var expected = [Double](repeating: 0, count: 40 * 48)
            for i in 0..<batch { for j in 0..<48 where y[i, j] > 0 {
                for k in 0..<40 { expected[k * 48 + j] += Double(x[i, k]) * Double(r[i, j]) }
            } }
            assertClose(doubles(first), expected, atol: 1e-4, rtol: 1e-4, "batch \(batch): Xᵀ dZ")
            _ = layer.backward(r)
            assertClose(doubles(layer.weight.gradient), expected.map { 2 * $0 },
                        atol: 2e-4, rtol: 1e-4, "batch \(batch): second backward adds")
        }
    }

    func testFrozenLayerKeepsWeightsBitIdenticalAndStillComputesInputGradient() {
        var rng = Xoshiro256(seed: 5)
        let frozen = Dense(inputSize: 3, outputSize: 4, activation: .leakyReLU(negativeSlope: 0.2), rng: &rng)
        var rng2 = Xoshiro256(seed: 5)
        let live = Dense(inputSize: 3, outputSize: 4, activation: .leakyReLU(negativeSlope: 0.2), rng: &rng2)
        frozen.isFrozen = true
        XCTAssertTrue(frozen.weight.isFrozen && frozen.bias.isFrozen)
        let w0 = frozen.weight.value.elements.map(\.bitPattern)
        let b0 = frozen.bias.value.elements.map(\.bitPattern)
        let x = randomMatrix(6, 3, seed: 8), r = randomMatrix(6, 4, seed: 9)
        _ = frozen.forward(x, training: true)
        let dxFrozen = frozen.backward(r)
        _ = live.forward(x, training: true)
        let dxLive = live.backward(r)
        XCTAssertEqual(dxFrozen, dxLive, "dX must not depend on freezing")
        XCTAssertTrue(frozen.weight.gradient.elements.allSatisfy { $0 == 0 }, "no dW when frozen")
        XCTAssertTrue(frozen.bias.gradient.elements.allSatisfy { $0 == 0 }, "no db when frozen")
        // Give it a nonzero gradient anyway: optimisers must still skip it.
        frozen.weight.gradient.fill(1); frozen.bias.gradient.fill(1)
        for opt in [Adam(parameters: frozen.parameters, learningRate: 0.1) as Optimizer,
                    SGD(parameters: frozen.parameters, learningRate: 0.1, momentum: 0.9),
                    RMSprop(parameters: frozen.parameters)] {
            opt.step()
        }
        XCTAssertEqual(frozen.weight.value.elements.map(\.bitPattern), w0)
        XCTAssertEqual(frozen.bias.value.elements.map(\.bitPattern), b0)
    }

    func testNoInputGradientReturnsEmptyButStillAccumulatesParameterGradients() {
        var rng = Xoshiro256(seed: 6)
        let layer = Dense(inputSize: 3, outputSize: 2, activation: .relu, rng: &rng)
        layer.computesInputGradient = false
        _ = layer.forward(randomMatrix(4, 3, seed: 1), training: true)
        let dx = layer.backward(randomMatrix(4, 2, seed: 2))
        XCTAssertEqual(dx.rows, 0); XCTAssertEqual(dx.cols, 0)
        XCTAssertFalse(layer.weight.gradient.elements.allSatisfy { $0 == 0 })
    }

    /// Steady state: the same output and dX buffers are reused across steps (no reallocation),
    /// and a smaller last batch fits the existing capacity.
    func testBuffersAreReusedAcrossSteps() {
        var rng = Xoshiro256(seed: 7)
        let net = Sequential([Dense(inputSize: 5, outputSize: 4, activation: .sigmoid, rng: &rng),
                              Dense(inputSize: 4, outputSize: 3, rng: &rng)])
        let x = randomMatrix(8, 5, seed: 1), g = randomMatrix(8, 3, seed: 2)
        func step(_ x: Matrix, _ g: Matrix) -> (Int, Int) {
            let y = net.forward(x, training: true)
            let dx = net.backward(g)
            return (address(y), address(dx))
        }
        let first = step(x, g)
        let second = step(x, g)
        XCTAssertEqual(first.0, second.0, "output buffer reallocated")
        XCTAssertEqual(first.1, second.1, "dX buffer reallocated")
        let partial = step(x.rows(0..<3), g.rows(0..<3))
        XCTAssertEqual(partial.0, first.0, "a smaller batch must reuse the buffer")
        let again = step(x, g)
        XCTAssertEqual(again.0, first.0, "the full batch after a partial one must reuse the buffer")
    }

    func testInitializerBounds() {
        var rng = Xoshiro256(seed: 9)
        let d = Dense(inputSize: 64, outputSize: 32, rng: &rng)
        let bound: Float = 1 / 8
        XCTAssertTrue(d.weight.value.elements.allSatisfy { abs($0) <= bound })
        XCTAssertTrue(d.bias.value.elements.allSatisfy { abs($0) <= bound })
        XCTAssertGreaterThan(d.weight.value.elements.map { abs($0) }.max()!, 0.9 * bound)
        let g = Dense(inputSize: 64, outputSize: 32, initializer: .glorotUniform, rng: &rng)
        let a = (6.0 / 96.0).squareRoot()
        XCTAssertTrue(g.weight.value.elements.allSatisfy { Double(abs($0)) <= a })
        XCTAssertTrue(g.bias.value.elements.allSatisfy { $0 == 0 })
        let h = Dense(inputSize: 400, outputSize: 300, initializer: .heNormal, rng: &rng)
        let std = (h.weight.value.elements.reduce(0) { $0 + Double($1 * $1) } / 120_000).squareRoot()
        XCTAssertEqual(std, (2.0 / 400).squareRoot(), accuracy: 0.002)
    }
}
