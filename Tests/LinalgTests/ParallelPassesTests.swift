import XCTest
@testable import Linalg

/// `Matrix.fill` and `Matrix.allFinite` split over the row-split threads: every part is
/// filled and every part is checked, whichever thread runs it.
final class ParallelPassesTests: XCTestCase {
    override func tearDown() { BLASThreads.set(.openBLAS(threads: 1)) }

    /// 200,003 elements: three parts of at least 32,768 under 3 threads, the last one short.
    private let count = 200_003

    func testSplitFillSetsEveryElement() {
        for threads in [1, 2, 3] {
            BLASThreads.set(.rowSplit(threads: threads))
            var m = Matrix(rows: 1, cols: count)
            for value: Float in [0, -2.5] {
                m.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = Float(i) + 1 } }
                m.fill(value)
                let wrong = m.withUnsafeBufferPointer { p in p.indices.filter { p[$0].bitPattern != value.bitPattern } }
                XCTAssertEqual(wrong, [], "threads \(threads), value \(value)")
            }
        }
    }

    func testSplitFiniteCheckFindsAValueInAnyPart() {
        for threads in [1, 2, 3] {
            BLASThreads.set(.rowSplit(threads: threads))
            var m = Matrix(rows: 1, cols: count)
            m.fill(1)
            XCTAssertTrue(m.allFinite(), "threads \(threads)")
            // First element, the start of the second and third parts, the last element.
            for index in [0, count / 3 + 17, 2 * count / 3 + 40, count - 1] {
                for bad: Float in [.nan, .infinity, -.infinity] {
                    m[0, index] = bad
                    XCTAssertFalse(m.allFinite(), "threads \(threads), \(bad) at \(index)")
                    m[0, index] = 1
                }
            }
            XCTAssertTrue(m.allFinite(), "threads \(threads), restored")
        }
    }

    /// The largest finite values and subnormals are finite; the check reads exponent bits only.
    func testSplitFiniteCheckAcceptsExtremeFiniteValues() {
        BLASThreads.set(.rowSplit(threads: 2))
        var m = Matrix(rows: 1, cols: count)
        m.fill(.greatestFiniteMagnitude)
        m[0, count - 1] = -.leastNonzeroMagnitude
        m[0, 40_000] = -.greatestFiniteMagnitude
        XCTAssertTrue(m.allFinite())
    }

    func testSplitRowCopyAndColumnSumsMatchPlainLoops() {
        let a = randomMatrix(203, 700, seed: 21)
        var expected = [Float](repeating: 0.5, count: 700)
        for i in 0..<203 { for j in 0..<700 { expected[j] += a[i, j] } }
        for threads in [1, 3] {
            BLASThreads.set(.rowSplit(threads: threads))
            var stacked = Matrix(rows: 406, cols: 700, repeating: .nan)
            stacked.setRows(a, at: 203)
            stacked.setRows(a, at: 0)
            XCTAssertEqual(stacked.elements, a.elements + a.elements, "threads \(threads)")
            var sums = Matrix(rows: 1, cols: 700, repeating: 0.5)
            Matrix.columnSums(a, into: &sums, accumulate: true)
            XCTAssertEqual(sums.elements.map(\.bitPattern), expected.map(\.bitPattern), "threads \(threads)")
        }
    }

    /// Rows copied within one shared buffer (overlapping views) come out as memmove's.
    func testOverlappingRowCopyIsAMemmove() {
        BLASThreads.set(.rowSplit(threads: 3))
        let buffer = Matrix.sharedBuffer(count: 200_000)
        var all = buffer
        all.withUnsafeMutableBufferPointer { p in for i in p.indices { p[i] = Float(i) } }
        var target = buffer.view(offset: 0, rows: 1, cols: 150_000)
        target.setRows(buffer.view(offset: 50_000, rows: 1, cols: 150_000), at: 0)
        XCTAssertEqual(target.elements, (50_000..<200_000).map(Float.init))
    }
}

