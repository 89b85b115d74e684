import XCTest
import Linalg
@testable import NN

/// im2col and col2im split by samples over the row-split threads give exactly the one-thread
/// result (each part owns its samples; every sum keeps its order).
final class ConvThreadingTests: XCTestCase {
    override func tearDown() { BLASThreads.set(.openBLAS(threads: 1)) }

    func testSplitIm2colAndCol2imAreBitIdentical() {
        let g = ConvGeometry(channels: 8, height: 14, width: 14, kernel: 4, stride: 2, padding: 1, layer: "test")
        let batch = 37   // an odd count: unequal parts
        XCTAssertLessThan(g.minimumSamplesPerThread * 2, batch, "the split must actually happen")
        var rng = Xoshiro256(seed: 3)
        let x = Matrix.uniform(rows: batch, cols: g.inputSize, low: -1, high: 1, using: &rng)
        let cols = Matrix.uniform(rows: g.patchSize, cols: batch * g.positions, low: -1, high: 1, using: &rng)
        func run(_ mode: GEMMThreading) -> ([Float], [Float]) {
            BLASThreads.set(mode)
            var p = Matrix(rows: g.patchSize, cols: batch * g.positions)
            var back = Matrix(rows: batch, cols: g.inputSize)
            x.withUnsafeBufferPointer { xs in p.withUnsafeMutableBufferPointer { g.im2col(xs.baseAddress!, batch: batch, into: $0.baseAddress!) } }
            cols.withUnsafeBufferPointer { c in back.withUnsafeMutableBufferPointer { g.col2im(c.baseAddress!, batch: batch, into: $0.baseAddress!) } }
            return (p.elements, back.elements)
        }
        let one = run(.openBLAS(threads: 1)), two = run(.rowSplit(threads: 2))
        XCTAssertEqual(one.0, two.0)
        XCTAssertEqual(one.1, two.1)
        XCTAssertTrue(one.1.contains { $0 != 0 })
    }
}
