import Datasets
import Linalg
import XCTest

final class GatherTests: XCTestCase {
    /// Three 2x2 "images": bytes 0,51,102,255 / 127,128,1,254 / 10,20,30,40.
    let bytes: [UInt8] = [0, 51, 102, 255, 127, 128, 1, 254, 10, 20, 30, 40]

    func testUnitScaling() {
        var batch = Matrix.empty
        gatherBatch(from: bytes, sampleSize: 4, indices: [2, 0][...], scaling: .unit, into: &batch)
        XCTAssertEqual(batch.rows, 2)
        XCTAssertEqual(batch.cols, 4)
        // b / 255 by hand.
        let expected: [Float] = [10.0 / 255, 20.0 / 255, 30.0 / 255, 40.0 / 255, 0, 0.2, 0.4, 1]
        for (a, e) in zip(batch.elements, expected) { XCTAssertEqual(a, e, accuracy: 1e-7) }
        XCTAssertEqual(batch[1, 0], 0)
        XCTAssertEqual(batch[1, 3], 1)
    }

    func testSymmetricScaling() {
        var batch = Matrix.empty
        gatherBatch(from: bytes, sampleSize: 4, indices: [0, 1][...], scaling: .symmetric, into: &batch)
        // b / 127.5 - 1 by hand: 0 -> -1, 51 -> -0.6, 102 -> -0.2, 255 -> 1, 127 -> -1/255, 128 -> 1/255.
        let expected: [Float] = [-1, -0.6, -0.2, 1, -1.0 / 255, 1.0 / 255, 1 / 127.5 - 1, 254 / 127.5 - 1]
        for (a, e) in zip(batch.elements, expected) { XCTAssertEqual(a, e, accuracy: 1e-6) }
        XCTAssertEqual(batch[0, 0], -1)
        XCTAssertEqual(batch[0, 3], 1)
        XCTAssertEqual(PixelScaling.symmetric.value(51), batch[0, 1])
    }

    func testReusesStorageForSmallerBatch() {
        var batch = Matrix.empty
        gatherBatch(from: bytes, sampleSize: 4, indices: [0, 1, 2][...], scaling: .unit, into: &batch)
        let base = batch.withUnsafeBufferPointer { $0.baseAddress }
        gatherBatch(from: bytes, sampleSize: 4, indices: [1][...], scaling: .unit, into: &batch)
        XCTAssertEqual(batch.rows, 1)
        XCTAssertEqual(batch.withUnsafeBufferPointer { $0.baseAddress }, base)
        XCTAssertEqual(batch[0, 1], 128.0 / 255, accuracy: 1e-7)
    }

    func testGatherRowsOfMatrix() {
        let data = Matrix([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
        var batch = Matrix.empty
        let order = [2, 0, 2]
        gatherBatch(from: data, indices: order[1...], into: &batch)
        XCTAssertEqual(batch, Matrix([[1, 2, 3], [7, 8, 9]]))
        XCTAssertEqual(data, Matrix([[1, 2, 3], [4, 5, 6], [7, 8, 9]]))
    }

    func testWithSamplerCoversDataset() {
        // Every sample reaches exactly one batch row per epoch.
        let data = Matrix(rows: 10, cols: 1, elements: (0..<10).map(Float.init))
        var s = BatchSampler(count: 10, batchSize: 3)
        var rng = Xoshiro256(seed: 5)
        s.startEpoch(rng: &rng)
        var batch = Matrix.empty
        var seen: [Float] = []
        for b in 0..<s.batchesPerEpoch {
            gatherBatch(from: data, indices: s.batchIndices(b), into: &batch)
            seen += batch.elements
        }
        XCTAssertEqual(seen.map { Int($0) }, s.order)
        XCTAssertEqual(seen.sorted(), (0..<10).map(Float.init))
    }

    /// Every byte value, both scalings, in a sample of 16 * 16 + 5 bytes (a short last block on
    /// CPUs that convert with AVX-512): exactly `Float(b) / divisor - shift`, the documented
    /// formula (`PixelScaling.value`), bit for bit.
    func testEveryByteValueConvertsExactly() {
        let sampleSize = 261
        let bytes = (0..<(2 * sampleSize)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        for scaling in [PixelScaling.unit, .symmetric] {
            var batch = Matrix.empty
            gatherBatch(from: bytes, sampleSize: sampleSize, indices: [1, 0][...], scaling: scaling, into: &batch)
            for k in 0..<2 {
                for j in 0..<sampleSize {
                    let b = bytes[(1 - k) * sampleSize + j]
                    guard batch[k, j].bitPattern == scaling.value(b).bitPattern else {
                        return XCTFail("\(scaling) byte \(b): \(batch[k, j]), expected \(scaling.value(b))")
                    }
                }
            }
        }
        XCTAssertEqual(Set(bytes).count, 256)
    }
}
