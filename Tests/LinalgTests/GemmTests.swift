import XCTest
import Linalg

final class GemmTests: XCTestCase {
    /// (m, n, k): non-square, with 1s and 0s in every position.
    let shapes: [(Int, Int, Int)] = [
        (3, 5, 4), (7, 9, 17), (1, 7, 3), (4, 1, 6), (5, 3, 1), (1, 1, 1),
        (0, 3, 4), (3, 0, 4), (3, 4, 0), (0, 0, 0),
    ]

    func testAllTransposeCombinationsAgainstNaiveLoop() {
        var seed: UInt64 = 1
        for (m, n, k) in shapes {
            for transposeA in [false, true] {
                for transposeB in [false, true] {
                    seed += 3
                    let a = transposeA ? randomMatrix(k, m, seed: seed) : randomMatrix(m, k, seed: seed)
                    let b = transposeB ? randomMatrix(n, k, seed: seed + 1) : randomMatrix(k, n, seed: seed + 1)
                    let c0 = randomMatrix(m, n, seed: seed + 2)
                    let ref = naiveProduct(a, b, transposeA: transposeA, transposeB: transposeB)
                    let tag = "m=\(m) n=\(n) k=\(k) tA=\(transposeA) tB=\(transposeB)"

                    var c = Matrix(rows: m, cols: n, repeating: .nan)
                    gemm(a, b, into: &c, transposeA: transposeA, transposeB: transposeB)
                    assertClose(c, ref, tol: 1e-5, "alpha=1 beta=0 " + tag)

                    var c2 = c0
                    gemm(a, b, into: &c2, transposeA: transposeA, transposeB: transposeB,
                         alpha: 1.5, beta: -0.5)
                    let expected = (0..<m).map { i in
                        (0..<n).map { j in 1.5 * ref[i][j] - 0.5 * Double(c0[i, j]) }
                    }
                    assertClose(c2, expected, tol: 1e-5, "alpha=1.5 beta=-0.5 " + tag)

                    assertClose(matmul(a, b, transposeA: transposeA, transposeB: transposeB), ref,
                                tol: 1e-5, "matmul " + tag)
                }
            }
        }
    }

    func testKZeroGivesBetaTimesC() {
        let a = Matrix(rows: 3, cols: 0), b = Matrix(rows: 0, cols: 2)
        let c0 = randomMatrix(3, 2, seed: 9)
        var c = c0
        gemm(a, b, into: &c, alpha: 2, beta: 0.25)
        assertClose(c, nested(c0).map { $0.map { 0.25 * $0 } }, tol: 0, "k=0 beta=0.25")
        var keep = c0
        gemm(a, b, into: &keep, beta: 1)
        XCTAssertEqual(keep, c0)
        var nanC = Matrix(rows: 3, cols: 2, repeating: .nan)
        gemm(a, b, into: &nanC, beta: 0)
        XCTAssertEqual(nanC, Matrix(rows: 3, cols: 2), "k=0, beta=0 must give exact zeros, not NaN")
    }

    func testBetaZeroIgnoresNaNAndInfInC() {
        let a = randomMatrix(6, 5, seed: 1), b = randomMatrix(5, 4, seed: 2)
        for fillValue in [Float.nan, .infinity, -.infinity] {
            var c = Matrix(rows: 6, cols: 4, repeating: fillValue)
            gemm(a, b, into: &c, alpha: 2, beta: 0)
            XCTAssertTrue(c.allFinite(), "beta = 0 propagated \(fillValue) from C")
            let ref = naiveProduct(a, b, transposeA: false, transposeB: false)
            assertClose(c, ref.map { $0.map { 2 * $0 } }, tol: 1e-5)
        }
    }

    func testRowViewsAsOperandsAndCopyOnWriteOfC() {
        // Operands that are row views with a nonzero offset into a larger parent.
        let parentA = randomMatrix(10, 4, seed: 3)
        let parentB = randomMatrix(8, 5, seed: 4)
        let a = parentA.rows(3..<7)      // 4x4 at offset 12
        let b = parentB.rows(4..<8)      // 4x5 at offset 20
        let big = randomMatrix(9, 5, seed: 5)
        let bigBefore = big.elements
        var c = big.rows(2..<6)          // a view sharing big's storage
        gemm(a, b, into: &c)
        assertClose(c, naiveProduct(a, b, transposeA: false, transposeB: false), tol: 1e-5)
        XCTAssertEqual(big.elements, bigBefore, "writing a view must not change its parent")
    }

    func testNoReallocationOfUnsharedC() {
        let a = randomMatrix(16, 8, seed: 6), b = randomMatrix(8, 12, seed: 7)
        var c = Matrix(rows: 16, cols: 12)
        let before = address(c)
        gemm(a, b, into: &c)
        XCTAssertEqual(address(c), before, "gemm into an unshared C must reuse its storage")
    }

    func testGemvBothWays() {
        let a = randomMatrix(5, 3, seed: 11)
        let x3 = randomMatrix(1, 3, seed: 12)       // 1 x n
        let x5 = randomMatrix(5, 1, seed: 13)       // n x 1
        let y0 = randomMatrix(5, 1, seed: 14)
        var y = y0
        gemv(a, x3, into: &y, alpha: 2, beta: 0.5)
        let ax = naiveProduct(a, x3, transposeA: false, transposeB: true)   // 5x1
        assertClose(y, (0..<5).map { [2 * ax[$0][0] + 0.5 * Double(y0[$0, 0])] }, tol: 1e-5, "gemv A x")

        var yt = Matrix(rows: 1, cols: 3, repeating: .nan)
        gemv(a, x5, into: &yt, transposeA: true)
        let atx = naiveProduct(x5, a, transposeA: true, transposeB: false)  // 1x3 = x5ᵀ A
        assertClose(yt, atx, tol: 1e-5, "gemv Aᵀ x with beta = 0 over NaN")

        var yEmpty = Matrix(rows: 5, cols: 1, repeating: .nan)
        gemv(Matrix(rows: 5, cols: 0), Matrix(rows: 0, cols: 1), into: &yEmpty)
        XCTAssertEqual(yEmpty, Matrix(rows: 5, cols: 1), "n = 0, beta = 0 gives zeros")
    }

    func testAxpyAndScale() {
        let x = randomMatrix(4, 3, seed: 21)
        let y0 = randomMatrix(4, 3, seed: 22)
        var y = y0                        // shares storage with y0 until written
        axpy(alpha: -2, x, &y)
        assertClose(y, (0..<4).map { i in (0..<3).map { j in Double(y0[i, j]) - 2 * Double(x[i, j]) } })
        XCTAssertEqual(y0, randomMatrix(4, 3, seed: 22), "axpy must not write through a shared copy")

        var s = y0
        s.scale(by: 3)
        assertClose(s, nested(y0).map { $0.map { 3 * $0 } })
        var empty = Matrix(rows: 0, cols: 3)
        empty.scale(by: 2)
        axpy(alpha: 1, Matrix(rows: 0, cols: 3), &empty)
        XCTAssertEqual(empty.count, 0)
    }

    func testBLASThreads() {
        let old = BLASThreads.count
        BLASThreads.set(1)
        XCTAssertEqual(BLASThreads.count, 1)
        BLASThreads.set(0)
        XCTAssertEqual(BLASThreads.count, 1, "values below 1 become 1")
        BLASThreads.set(old)
        XCTAssertGreaterThanOrEqual(BLASThreads.processors, 1)
    }
}

/// The roofline measurement returns a rate (positive, finite) for a small product.
final class RooflineTests: XCTestCase {
    func testMeasuresAPositiveRate() {
        let g = measureSgemmGFLOPS(n: 32, repetitions: 2)
        XCTAssertTrue(g > 0 && g.isFinite, "\(g)")
    }

    /// The cores' streams, by OpenBLAS and (where it runs) by our packed kernel.
    func testStreamsMeasureAPositiveRateWithEitherKernel() {
        let old = BLASThreads.threading
        defer { BLASThreads.set(old) }
        var kernels: [RooflineKernel] = [.openBLAS]
        if PackedPanels.isAvailable { kernels.append(.packed) }
        for kernel in kernels {
            let g = measureParallelSgemmGFLOPS(streams: 2, n: 64, repetitions: 1, kernel: kernel)
            XCTAssertTrue(g > 0 && g.isFinite, "\(kernel): \(g)")
        }
    }
}
