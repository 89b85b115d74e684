import Foundation
import XCTest
import Linalg
@testable import NN

/// Trajectories against Tests/NNTests/Fixtures/optimizer_reference.json, written by
/// scripts/nn_optimizer_reference.py (numpy, float64). Tolerance 2e-6 absolute + 1e-5 relative
/// (Float arithmetic over 5 steps).
final class OptimizerTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let optimizer: String
            let hyper: [String: Double]
            let expected: [[Double]]
        }
        let initial: [Double]
        let rows: Int, cols: Int
        let gradients: [[Double]]
        let cases: [Case]
    }

    static func loadFixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/optimizer_reference.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    static func make(_ c: Fixture.Case, _ p: Parameter) -> Optimizer {
        let h = { (k: String, d: Float) -> Float in c.hyper[k].map(Float.init) ?? d }
        switch c.optimizer {
        case "adam", "adamw":
            return Adam(parameters: [p], learningRate: h("learningRate", 1e-3), beta1: h("beta1", 0.9),
                        beta2: h("beta2", 0.999), eps: h("eps", 1e-8), weightDecay: h("weightDecay", 0),
                        decoupledWeightDecay: c.optimizer == "adamw")
        case "sgd":
            return SGD(parameters: [p], learningRate: h("learningRate", 0), momentum: h("momentum", 0),
                       nesterov: (c.hyper["nesterov"] ?? 0) != 0, weightDecay: h("weightDecay", 0))
        case "rmsprop":
            return RMSprop(parameters: [p], learningRate: h("learningRate", 1e-2), alpha: h("alpha", 0.99),
                           eps: h("eps", 1e-8), weightDecay: h("weightDecay", 0))
        default:
            fatalError("unknown optimizer \(c.optimizer) in fixture")
        }
    }

    func testTrajectoriesMatchReference() throws {
        let f = try Self.loadFixture()
        XCTAssertEqual(f.cases.count, 8)
        for (n, c) in f.cases.enumerated() {
            let p = Parameter(name: "w", value: Matrix(rows: f.rows, cols: f.cols, elements: f.initial.map(Float.init)))
            let opt = Self.make(c, p)
            for (t, g) in f.gradients.enumerated() {
                p.gradient = Matrix(rows: f.rows, cols: f.cols, elements: g.map(Float.init))
                opt.step()
                assertClose(doubles(p.value), c.expected[t], atol: 2e-6, rtol: 1e-5, "case \(n) \(c.optimizer) \(c.hyper) step \(t + 1)")
            }
            XCTAssertEqual(opt.stepCount, 5)
        }
    }

    /// Save state after 2 steps, restore into a fresh optimiser, finish: same trajectory.
    func testStateRoundTripResumesTrajectory() throws {
        let f = try Self.loadFixture()
        for c in f.cases where c.hyper["momentum"] != nil || c.optimizer != "sgd" {
            let p = Parameter(name: "w", value: Matrix(rows: f.rows, cols: f.cols, elements: f.initial.map(Float.init)))
            let first = Self.make(c, p)
            for g in f.gradients.prefix(2) {
                p.gradient = Matrix(rows: f.rows, cols: f.cols, elements: g.map(Float.init)); first.step()
            }
            let saved = Dictionary(uniqueKeysWithValues: first.stateTensors().map { ($0.name, $0.tensor) })
            XCTAssertFalse(saved.isEmpty)
            let second = Self.make(c, p)
            try second.loadState(saved, stepCount: first.stepCount)
            for g in f.gradients.dropFirst(2) {
                p.gradient = Matrix(rows: f.rows, cols: f.cols, elements: g.map(Float.init)); second.step()
            }
            assertClose(doubles(p.value), c.expected[4], atol: 2e-6, rtol: 1e-5, "resumed \(c.optimizer) \(c.hyper)")
        }
    }

    func testLoadStateRejectsBadTensors() {
        let p = Parameter(name: "w", value: Matrix(rows: 2, cols: 3))
        let adam = Adam(parameters: [p])
        XCTAssertEqual(adam.stateTensors().map(\.name), ["adam.m.0", "adam.v.0"])
        let good = ["adam.m.0": Matrix(rows: 2, cols: 3), "adam.v.0": Matrix(rows: 2, cols: 3)]
        XCTAssertThrowsError(try adam.loadState(["adam.m.0": Matrix(rows: 2, cols: 3)], stepCount: 1)) {
            XCTAssertEqual($0 as? OptimizerStateError, .missingTensor("adam.v.0"))
        }
        var bad = good; bad["adam.v.0"] = Matrix(rows: 3, cols: 2)
        XCTAssertThrowsError(try adam.loadState(bad, stepCount: 1)) {
            XCTAssertEqual($0 as? OptimizerStateError, .shapeMismatch(name: "adam.v.0", expected: [2, 3], actual: [3, 2]))
        }
        var extra = good; extra["adam.x.0"] = Matrix(rows: 1, cols: 1)
        XCTAssertThrowsError(try adam.loadState(extra, stepCount: 1)) {
            XCTAssertEqual($0 as? OptimizerStateError, .unexpectedTensor("adam.x.0"))
        }
        XCTAssertNoThrow(try adam.loadState(good, stepCount: 7))
        XCTAssertEqual(adam.stepCount, 7)
    }

    /// Without weight decay Adam runs a loop without the decay's operations; it must give the
    /// bits of the general update with `l2 = 0`, `shrink = 1`, written out here in the order
    /// of `adamUpdate` (exact zeros of both signs among the gradients).
    func testAdamWithoutDecayIsTheGeneralUpdateBitForBit() {
        var rng = Xoshiro256(seed: 11)
        let n = 5000, lr: Float = 1e-3, b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-8
        let p = Parameter(name: "w", value: Matrix.uniform(rows: 1, cols: n, low: -1, high: 1, using: &rng))
        let adam = Adam(parameters: [p], learningRate: lr, beta1: b1, beta2: b2, eps: eps)
        var x = p.value.elements, m = [Float](repeating: 0, count: n), v = m
        let l2: Float = 0, shrink: Float = 1
        for t in 1...4 {
            var g = Matrix.uniform(rows: 1, cols: n, low: -1, high: 1, using: &rng).elements
            for i in stride(from: t, to: n, by: 7) { g[i] = i % 2 == 0 ? -0.0 : 0 }
            p.gradient = Matrix(rows: 1, cols: n, elements: g)
            adam.step()
            let stepSize = Float(Double(lr) / (1 - Foundation.pow(Double(b1), Double(t))))
            let invBc2Sqrt = Float(1 / (1 - Foundation.pow(Double(b2), Double(t))).squareRoot())
            for i in 0..<n {
                var xi = x[i]
                let gi = g[i] + l2 * xi
                xi *= shrink
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                x[i] = xi - stepSize * m[i] / (v[i].squareRoot() * invBc2Sqrt + eps)
            }
            XCTAssertEqual(p.value.elements.map(\.bitPattern), x.map(\.bitPattern), "step \(t)")
        }
    }
}

/// Adam splits large tensors over the worker threads in row-split mode: the update is
/// element-wise, so the result must be bit-identical to the single-threaded one.
final class AdamThreadingTests: XCTestCase {
    override func tearDown() { BLASThreads.set(.openBLAS(threads: 1)) }

    private func run(_ mode: GEMMThreading) -> [Float] {
        BLASThreads.set(mode)
        var rng = Xoshiro256(seed: 3)
        let p = Parameter(name: "w", value: Matrix.uniform(rows: 1, cols: 100_000, low: -1, high: 1, using: &rng))
        let adam = Adam(parameters: [p], learningRate: 1e-2)
        for _ in 0..<3 {
            p.gradient = Matrix.uniform(rows: 1, cols: 100_000, low: -1, high: 1, using: &rng)
            adam.step()
        }
        return p.value.elements
    }

    func testRowSplitAdamIsBitIdentical() {
        XCTAssertEqual(run(.openBLAS(threads: 1)), run(.rowSplit(threads: 2)))
    }
}

/// An unshared Adam keeps a packed weight (a Dense layer's, on AVX-512 CPUs) only in its own
/// panels and updates it there, part by part (row split's parts start mid-row).
final class AdamPackingTests: XCTestCase {
    override func tearDown() { BLASThreads.set(.openBLAS(threads: 1)) }

    /// Against the same weight unpacked, on the same gradients: the products over the panels
    /// and (read afterwards) the values must be the same bits, on 1 and 3 row-split threads
    /// (parts starting mid-row and mid-panel), with a write of `value` between updates and
    /// without any copy back while nobody reads `value`.
    func testUnsharedAdamKeepsPackedWeightInItsPanels() throws {
        try XCTSkipUnless(PackedPanels.isAvailable, "no AVX-512F: no packed weights")
        for threads in [1, 3] {
            BLASThreads.set(.rowSplit(threads: threads))
            var rng = Xoshiro256(seed: 31)
            let start = Matrix.uniform(rows: 300, cols: 333, low: -1, high: 1, using: &rng)
            let kept = Parameter(name: "w", value: start), plain = Parameter(name: "w", value: start)
            kept.packing = PackedWeight()
            let adams = [Adam(parameters: [kept], learningRate: 1e-2), Adam(parameters: [plain], learningRate: 1e-2)]
            let a = randomMatrix(8, 300, seed: 32)
            for step in 0..<4 {
                let g = randomMatrix(300, 333, seed: 40 + UInt64(step))
                kept.gradient = g
                plain.gradient = g
                for adam in adams { adam.step() }
                XCTAssertNotNil(kept.valueLivesIn, "threads \(threads), step \(step): copied back without a read")
                let fresh = PackedPanels(rows: 300, cols: 333)
                fresh.pack(plain.value, elements: 0..<plain.value.count)
                var expected = Matrix(rows: 8, cols: 333), actual = expected
                gemm(a, packed: fresh, into: &expected)
                gemm(a, packed: kept.packedPanels(forRows: 8)!, into: &actual)
                XCTAssertEqual(actual.elements.map(\.bitPattern), expected.elements.map(\.bitPattern),
                               "threads \(threads), step \(step): products")
                if step == 1 {
                    XCTAssertEqual(kept.value.elements.map(\.bitPattern), plain.value.elements.map(\.bitPattern))
                    XCTAssertNil(kept.valueLivesIn)
                    let written = randomMatrix(300, 333, seed: 50)
                    kept.value.assign(written)
                    plain.value.assign(written)
                }
            }
            XCTAssertEqual(kept.value.elements.map(\.bitPattern), plain.value.elements.map(\.bitPattern), "threads \(threads)")
        }
    }

    /// A Dense layer's next product must read exactly the updated weight, as panels packed
    /// afresh from `value` (copied back from them) do.
    func testPanelsKeptByTheUpdateHoldTheUpdatedWeight() throws {
        try XCTSkipUnless(PackedPanels.isAvailable, "no AVX-512F: no packed weights")
        for threads in [1, 3] {
            BLASThreads.set(.rowSplit(threads: threads))
            var rng = Xoshiro256(seed: 12)
            // 300 x 333 over 3 threads: parts of about 33,300 elements, each starting inside a row.
            let layer = Dense(inputSize: 300, outputSize: 333, rng: &rng)
            layer.bias.value.fill(0)
            layer.bias.isFrozen = true   // stays 0: the forward is the product alone
            let adam = Adam(parameters: layer.parameters, learningRate: 1e-2)
            let x = randomMatrix(8, 300, seed: 13)
            for step in 0..<2 {
                _ = layer.forward(x, training: true)
                _ = layer.backward(randomMatrix(8, 333, seed: 14 + UInt64(step)))
                adam.step()
                layer.zeroGradients()
                XCTAssertFalse(layer.weight.packing!.usesOthersPanels)
                let fresh = PackedPanels(rows: 300, cols: 333)
                fresh.pack(layer.weight.value, elements: 0..<layer.weight.value.count)
                var expected = Matrix(rows: 8, cols: 333)
                gemm(x, packed: fresh, into: &expected)
                XCTAssertEqual(layer.forward(x, training: false), expected, "threads \(threads), step \(step)")
            }
        }
    }
}
