import Datasets
import Linalg
import XCTest

final class BatchSamplerTests: XCTestCase {
    /// All indices of one epoch, batch after batch.
    func epoch(_ s: BatchSampler) -> [[Int]] {
        (0..<s.batchesPerEpoch).map { Array(s.batchIndices($0)) }
    }

    func testEveryIndexOnceWithPartialLastBatchKept() {
        var s = BatchSampler(count: 10, batchSize: 4)
        XCTAssertEqual(s.batchesPerEpoch, 3)
        var rng = Xoshiro256(seed: 1)
        var previous: [Int] = []
        for _ in 0..<3 {
            s.startEpoch(rng: &rng)
            let batches = epoch(s)
            XCTAssertEqual(batches.map(\.count), [4, 4, 2])
            XCTAssertEqual(batches.flatMap { $0 }.sorted(), Array(0..<10))
            XCTAssertNotEqual(batches.flatMap { $0 }, previous)
            previous = batches.flatMap { $0 }
        }
    }

    /// A batch size larger than the data set (up to Int.max, which overflowed the rounding-up
    /// division) gives one batch of everything, or none with dropLast.
    func testBatchLargerThanDataSet() {
        for size in [11, 1 << 40, Int.max] {
            var s = BatchSampler(count: 10, batchSize: size)
            XCTAssertEqual(s.batchesPerEpoch, 1)
            var rng = Xoshiro256(seed: 3)
            s.startEpoch(rng: &rng)
            XCTAssertEqual(s.batchIndices(0).sorted(), Array(0..<10))
            XCTAssertEqual(BatchSampler(count: 10, batchSize: size, dropLast: true).batchesPerEpoch, 0)
        }
        XCTAssertEqual(BatchSampler(count: 0, batchSize: Int.max).batchesPerEpoch, 0)
    }

    func testDropLast() {
        var s = BatchSampler(count: 10, batchSize: 4, dropLast: true)
        XCTAssertEqual(s.batchesPerEpoch, 2)
        var rng = Xoshiro256(seed: 2)
        s.startEpoch(rng: &rng)
        let seen = epoch(s).flatMap { $0 }
        XCTAssertEqual(seen.count, 8)
        XCTAssertEqual(Set(seen).count, 8)
        XCTAssertTrue(seen.allSatisfy { (0..<10).contains($0) })
        // An exact multiple loses nothing either way.
        XCTAssertEqual(BatchSampler(count: 12, batchSize: 4, dropLast: true).batchesPerEpoch, 3)
        XCTAssertEqual(BatchSampler(count: 12, batchSize: 4).batchesPerEpoch, 3)
        XCTAssertEqual(BatchSampler(count: 3, batchSize: 4, dropLast: true).batchesPerEpoch, 0)
    }

    func testSameSeedSameOrder() {
        var a = BatchSampler(count: 100, batchSize: 7)
        var b = BatchSampler(count: 100, batchSize: 7)
        var ra = Xoshiro256(seed: 42), rb = Xoshiro256(seed: 42)
        for _ in 0..<3 {
            a.startEpoch(rng: &ra)
            b.startEpoch(rng: &rb)
            XCTAssertEqual(a.order, b.order)
        }
        var c = BatchSampler(count: 100, batchSize: 7)
        var rc = Xoshiro256(seed: 43)
        c.startEpoch(rng: &rc)
        XCTAssertNotEqual(a.order, c.order)
    }

    func testOrderDependsOnlyOnGeneratorState() {
        // Resuming: restoring the order and the generator reproduces the following epoch.
        var a = BatchSampler(count: 50, batchSize: 8)
        var ra = Xoshiro256(seed: 9)
        a.startEpoch(rng: &ra)
        let saved = a.order, savedRNG = ra.stateWords
        a.startEpoch(rng: &ra)
        var b = BatchSampler(count: 50, batchSize: 8)
        XCTAssertNoThrow(try b.setOrder(saved))
        XCTAssertEqual(b.order, saved)
        var rb = Xoshiro256(stateWords: savedRNG)
        b.startEpoch(rng: &rb)
        XCTAssertEqual(a.order, b.order)
    }

    func testNoShuffleIsIdentity() {
        var s = BatchSampler(count: 5, batchSize: 2, shuffle: false)
        var rng = Xoshiro256(seed: 3)
        let before = rng
        s.startEpoch(rng: &rng)
        XCTAssertEqual(epoch(s), [[0, 1], [2, 3], [4]])
        XCTAssertEqual(rng, before)
    }

    func testSetOrderValidates() {
        var s = BatchSampler(count: 4, batchSize: 2)
        XCTAssertThrowsError(try s.setOrder([0, 1, 2]))
        XCTAssertThrowsError(try s.setOrder([0, 1, 1, 3]))
        XCTAssertThrowsError(try s.setOrder([0, 1, 2, 4]))
        XCTAssertThrowsError(try s.setOrder([0, -1, 2, 3]))
        XCTAssertNoThrow(try s.setOrder([3, 1, 0, 2]))
        XCTAssertEqual(Array(s.batchIndices(0)), [3, 1])
    }

    func testShuffleLooksUniform() {
        // Position of index 0 after shuffling 5 items, over 5000 epochs: each position ~1000.
        var s = BatchSampler(count: 5, batchSize: 5)
        var rng = Xoshiro256(seed: 11)
        var where0 = [Int](repeating: 0, count: 5)
        for _ in 0..<5000 {
            s.startEpoch(rng: &rng)
            where0[s.order.firstIndex(of: 0)!] += 1
        }
        // 5 sigma of Binomial(5000, 0.2) is ~141.
        for c in where0 { XCTAssertEqual(Double(c), 1000, accuracy: 141) }
    }
}
