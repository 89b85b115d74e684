import Linalg
@testable import NN
import XCTest

/// Optimisers update with denormals flushed to zero (`Optimizer.step()`), on the calling thread
/// and on row split's workers, and leave the threads' floating-point mode as they found it.
/// Expected values by hand: with IEEE gradual underflow each of these results is a denormal,
/// ~1e-39; flushed, exactly 0.
final class DenormalFlushTests: XCTestCase {
    override func tearDown() { BLASThreads.set(.openBLAS(threads: 1)) }

    /// The smallest normal Float, read at run time (a literal product could fold at compile time).
    private let smallest = [Float.leastNormalMagnitude][0]

    private func state(_ optimizer: Optimizer, _ name: String) -> [Float] {
        optimizer.stateTensors().first { $0.name == name }!.tensor.elements
    }

    /// Step 1 with g = 2⁻¹²⁶: m = 0.9·0 + 0.1·g = 0.1·2⁻¹²⁶ (a denormal) → 0; v = 0.001·g² → 0;
    /// so x moves by 0: exactly 1.
    func testAdamMomentBelowTheSmallestNormalIsZero() {
        let p = Parameter(name: "w", value: Matrix(rows: 1, cols: 3, repeating: 1))
        let adam = Adam(parameters: [p], learningRate: 1e-3)
        p.gradient = Matrix(rows: 1, cols: 3, repeating: smallest)
        adam.step()
        XCTAssertEqual(state(adam, "adam.m.0").map(\.bitPattern), [0, 0, 0])
        XCTAssertEqual(state(adam, "adam.v.0").map(\.bitPattern), [0, 0, 0])
        XCTAssertEqual(p.value.elements, [1, 1, 1])
    }

    /// The same on row split's worker threads: 100,000 elements are split between 2 threads.
    func testAdamOnWorkerThreadsFlushesToo() {
        BLASThreads.set(.rowSplit(threads: 2))
        let n = 100_000
        let p = Parameter(name: "w", value: Matrix(rows: 1, cols: n, repeating: 1))
        let adam = Adam(parameters: [p], learningRate: 1e-3)
        p.gradient = Matrix(rows: 1, cols: n, repeating: smallest)
        adam.step()
        let m = state(adam, "adam.m.0")
        XCTAssertEqual(m.filter { $0 != 0 }.count, 0, "non-zero moments, first at \(m.firstIndex { $0 != 0 } ?? -1)")
    }

    /// RMSprop: s = 0.99·0 + 0.01·g² with g = 2⁻⁶³ (g² = 2⁻¹²⁶, normal): 0.01·2⁻¹²⁶ → 0.
    /// SGD with momentum 0.9: b = g = 2⁻¹²⁶ at step 1; at step 2 with g = 0, b = 0.9·2⁻¹²⁶ → 0.
    func testRMSpropAndMomentumFlush() {
        let p = Parameter(name: "w", value: Matrix(rows: 1, cols: 2, repeating: 1))
        let rms = RMSprop(parameters: [p], learningRate: 1e-3)
        p.gradient = Matrix(rows: 1, cols: 2, repeating: Float(sign: .plus, exponent: -63, significand: 1))
        rms.step()
        XCTAssertEqual(state(rms, "rmsprop.square_avg.0").map(\.bitPattern), [0, 0])

        let q = Parameter(name: "w", value: Matrix(rows: 1, cols: 2, repeating: 1))
        let sgd = SGD(parameters: [q], learningRate: 1e-3, momentum: 0.9)
        q.gradient = Matrix(rows: 1, cols: 2, repeating: smallest)
        sgd.step()
        XCTAssertEqual(state(sgd, "sgd.momentum.0"), [smallest, smallest], "step 1 copies g")
        q.gradient = Matrix(rows: 1, cols: 2, repeating: 0)
        sgd.step()
        XCTAssertEqual(state(sgd, "sgd.momentum.0").map(\.bitPattern), [0, 0])
    }

    /// After a step the caller's arithmetic has gradual underflow again: half the smallest
    /// normal is a denormal, not 0 (on every thread that took part).
    func testModeIsRestoredAfterAStep() {
        BLASThreads.set(.rowSplit(threads: 2))
        let p = Parameter(name: "w", value: Matrix(rows: 1, cols: 100_000, repeating: 1))
        let adam = Adam(parameters: [p], learningRate: 1e-3)
        p.gradient = Matrix(rows: 1, cols: 100_000, repeating: 1)
        adam.step()
        let half = [Float(0.5)][0]
        XCTAssertTrue((smallest * half).isSubnormal)
        var onWorkers = [Float](repeating: 0, count: 2)
        onWorkers.withUnsafeMutableBufferPointer { out in
            withUnsafeMutablePointer(to: &out) { ctx in
                ParallelFor.run(count: 2, minimumPerThread: 1, context: UnsafeMutableRawPointer(ctx)) { raw, start, end in
                    let out = raw.assumingMemoryBound(to: UnsafeMutableBufferPointer<Float>.self).pointee
                    for i in start..<end { out[i] = [Float.leastNormalMagnitude][0] * [Float(0.5)][0] }
                }
            }
        }
        XCTAssertTrue(onWorkers.allSatisfy(\.isSubnormal), "\(onWorkers)")
    }
}
