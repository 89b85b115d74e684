import XCTest
@testable import Linalg

/// Row-split gemm and ParallelFor: results must match the single-call path exactly in shape
/// and to rounding in value, for every transpose case and uneven row counts.
final class WorkerThreadsTests: XCTestCase {
    override func tearDown() {
        BLASThreads.set(.openBLAS(threads: 1))
    }

    func testRowSplitGemmMatchesNaiveForEveryTransposeCase() {
        BLASThreads.set(.rowSplit(threads: 2))
        XCTAssertEqual(BLASThreads.count, 2)
        // m = 203 (not a multiple of the 8-row chunk), large enough to be split (>= 2 MFLOP).
        let (m, n, k) = (203, 96, 70)
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = randomMatrix(ta ? k : m, ta ? m : k, seed: 1)
            let b = randomMatrix(tb ? n : k, tb ? k : n, seed: 2)
            var c = randomMatrix(m, n, seed: 3)
            let c0 = c
            gemm(a, b, into: &c, transposeA: ta, transposeB: tb, alpha: 0.5, beta: 2)
            var expected = naiveProduct(a, b, transposeA: ta, transposeB: tb)
            for i in 0..<m { for j in 0..<n { expected[i][j] = 0.5 * expected[i][j] + 2 * Double(c0[i, j]) } }
            assertClose(c, expected, tol: 1e-5, "transA \(ta) transB \(tb)")
        }
    }

    func testRowSplitAndOpenBLASGiveTheSameProduct() {
        let a = randomMatrix(256, 300, seed: 4), b = randomMatrix(300, 128, seed: 5)
        BLASThreads.set(.openBLAS(threads: 1))
        let single = matmul(a, b)
        BLASThreads.set(.rowSplit(threads: 2))
        let split = matmul(a, b)
        // OpenBLAS's kernels for the row blocks may round differently: equal to rounding.
        assertClose(split, nested(single), tol: 1e-5)
        XCTAssertEqual(matmul(a, b), split, "the same mode twice is deterministic")
    }

    func testParallelForCoversEveryIndexOnce() {
        BLASThreads.set(.rowSplit(threads: 2))
        let n = 100_003
        var counts = [Int32](repeating: 0, count: n)
        counts.withUnsafeMutableBufferPointer { p in
            var base = p.baseAddress!
            withUnsafeMutablePointer(to: &base) { ctx in
                ParallelFor.run(count: n, minimumPerThread: 1000, context: UnsafeMutableRawPointer(ctx)) { c, start, end in
                    let b = c.assumingMemoryBound(to: UnsafeMutablePointer<Int32>.self).pointee
                    for i in start..<end { b[i] += 1 }
                }
            }
        }
        XCTAssertTrue(counts.allSatisfy { $0 == 1 })
    }
}

/// Changing the thread count replaces the workers: the old threads end (none leak).
final class WorkerLifetimeTests: XCTestCase {
    override func tearDown() { BLASThreads.set(.openBLAS(threads: 1)) }

    private func threadCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
    }

    func testSwitchingThreadCountsEndsOldWorkers() throws {
        BLASThreads.set(.rowSplit(threads: 3))
        let a = randomMatrix(256, 300, seed: 1), b = randomMatrix(300, 128, seed: 2)
        _ = matmul(a, b)
        let before = threadCount()
        for t in [2, 4, 3, 2, 4, 3] {
            BLASThreads.set(.rowSplit(threads: t))
            XCTAssertEqual(BLASThreads.count, t)
            _ = matmul(a, b)
        }
        BLASThreads.set(.rowSplit(threads: 3))
        // Exiting threads need a moment to be reaped.
        var after = threadCount()
        for _ in 0..<50 where after > before { usleep(20_000); after = threadCount() }
        XCTAssertLessThanOrEqual(after, before, "worker threads leaked")
    }
}
