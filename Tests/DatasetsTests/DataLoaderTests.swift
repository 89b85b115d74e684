import Datasets
import Foundation
import Linalg
import XCTest

final class DataLoaderTests: XCTestCase {
    /// 10 labelled 1x2 "images": sample i has pixels (i, 100 + i) and label i % 10, so every
    /// row of a batch says which sample it is.
    func labelled(_ n: Int = 10) -> Dataset.Storage {
        let bytes = (0..<n).flatMap { [UInt8($0), UInt8(100 + $0)] }
        return .bytes(LabeledImages(images: bytes, labels: (0..<n).map { UInt8($0 % 10) }, count: n, height: 1, width: 2))
    }

    /// All batches of one epoch as (pixel rows, labels).
    func epoch(_ loader: inout DataLoader) -> [([[Float]], [Int32]?)] {
        var out: [([[Float]], [Int32]?)] = []
        var batch = Batch()
        while loader.next(into: &batch) {
            out.append(((0..<batch.x.rows).map { r in (0..<batch.x.cols).map { batch.x[r, $0] } }, batch.labels))
        }
        return out
    }

    func testShuffleKeepsSamplesAndLabelsTogetherAndKeepsThePartialBatch() {
        var loader = DataLoader(labelled(), batchSize: 4, scaling: .unit)
        XCTAssertEqual(loader.batchesPerEpoch, 3)
        var rng = Xoshiro256(seed: 7)
        loader.startEpoch(rng: &rng)
        let batches = epoch(&loader)
        XCTAssertEqual(batches.map { $0.0.count }, [4, 4, 2])
        var seen: [Int] = []
        for (rows, labels) in batches {
            let labels = try! XCTUnwrap(labels)
            XCTAssertEqual(labels.count, rows.count)
            for (row, label) in zip(rows, labels) {
                let i = Int((row[0] * 255).rounded())
                XCTAssertEqual(row[0], Float(i) / 255)
                XCTAssertEqual(row[1], Float(100 + i) / 255, "pixels of one sample stay in one row")
                XCTAssertEqual(Int(label), i % 10, "the label follows its sample")
                seen.append(i)
            }
        }
        XCTAssertEqual(seen.sorted(), Array(0..<10))
        XCTAssertNotEqual(seen, Array(0..<10), "seed 7 shuffles")
        var batch = Batch()
        XCTAssertFalse(loader.next(into: &batch), "the epoch is over")
    }

    /// Same order and values as BatchSampler.startEpoch + gatherBatch (what gen train used).
    func testMatchesBatchSamplerAndGather() {
        let storage = labelled(37)
        guard case .bytes(let images) = storage else { return XCTFail() }
        var loader = DataLoader(storage, batchSize: 8, scaling: .symmetric)
        var sampler = BatchSampler(count: 37, batchSize: 8)
        var a = Xoshiro256(seed: 3), b = Xoshiro256(seed: 3)
        var batch = Batch(), expected = Matrix.empty
        for _ in 0..<2 {
            loader.startEpoch(rng: &a)
            sampler.startEpoch(rng: &b)
            for k in 0..<sampler.batchesPerEpoch {
                XCTAssertTrue(loader.next(into: &batch))
                gatherBatch(from: images.images, sampleSize: 2, indices: sampler.batchIndices(k),
                            scaling: .symmetric, into: &expected)
                XCTAssertEqual(batch.x, expected)
            }
            XCTAssertEqual(a, b)
        }
    }

    /// Starting an epoch at batch k (resume) gives exactly the last batches of the full epoch.
    func testResumeAtBatchKIsTheTailOfTheEpoch() {
        var rng = Xoshiro256(seed: 11)
        let before = rng
        var full = DataLoader(labelled(), batchSize: 3, scaling: .unit)
        full.startEpoch(rng: &rng)
        let all = epoch(&full)
        XCTAssertEqual(all.count, 4)
        for k in 0...4 {
            var again = before
            var resumed = DataLoader(labelled(), batchSize: 3, scaling: .unit)
            resumed.startEpoch(rng: &again, atBatch: k)
            XCTAssertEqual(resumed.position, k)
            let tail = epoch(&resumed)
            XCTAssertEqual(tail.map(\.0), Array(all.dropFirst(k)).map(\.0))
            XCTAssertEqual(tail.map(\.1), Array(all.dropFirst(k)).map(\.1))
            XCTAssertEqual(again, rng, "the generator advances by one shuffle either way")
        }
    }

    /// Float data: no labels, values as stored ([0, 1]) or 2v - 1.
    func testFloatStorageHasNoLabels() {
        let m = Matrix(rows: 3, cols: 2, elements: [0, 0.5, 1, 0.25, 0.75, 0.125])
        var loader = DataLoader(.floats(m), batchSize: 2, scaling: .symmetric, shuffle: false)
        var rng = Xoshiro256(seed: 1)
        loader.startEpoch(rng: &rng)
        var batch = Batch()
        XCTAssertTrue(loader.next(into: &batch))
        XCTAssertNil(batch.labels)
        XCTAssertEqual(batch.x, Matrix(rows: 2, cols: 2, elements: [-1, 0, 1, -0.5]))
        XCTAssertTrue(loader.next(into: &batch))
        XCTAssertEqual(batch.x, Matrix(rows: 1, cols: 2, elements: [0.5, -0.75]))
        XCTAssertFalse(loader.next(into: &batch))
    }

    /// Dataset.load: byte-valued images (8x8 rows) scaled by 1/255, --limit, a square image
    /// shape; errors name the file.
    func testLoadCSVAndErrors() throws {
        let dir = try makeTempDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("d.csv")
        let pad = "," + Array(repeating: "7", count: 60).joined(separator: ",")
        try "0,255,51,102\(pad)\n255,0,0,0\(pad)\n1,2,3,4\(pad)\n".write(to: csv, atomically: true, encoding: .utf8)
        let d = try Dataset.load(path: csv.path, limit: 2)
        XCTAssertEqual(d.count, 2)
        XCTAssertEqual(d.sampleSize, 64)
        XCTAssertNil(d.test)
        XCTAssertNil(d.scaling, "image bytes, not per-column scaling")
        XCTAssertEqual(d.imageShape?.height, 8)
        guard case .floats(let m, _) = d.train else { return XCTFail() }
        XCTAssertEqual(m[0, 2], 51 * (1 / 255 as Float), "scaled by the Float reciprocal of 255")
        XCTAssertNil(d.train.labels)
        XCTAssertThrowsError(try Dataset.load(path: dir.appendingPathComponent("nope").path, limit: nil)) {
            XCTAssertEqual("\($0)", dir.appendingPathComponent("nope").path + ": no such file or directory")
        }
        let nan = dir.appendingPathComponent("nan.csv")
        try "0.1,0.2\n0.3,nan\n".write(to: nan, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Dataset.load(path: nan.path, limit: nil)) {
            XCTAssertEqual(($0 as? DatasetError)?.description, nan.path + ": NaN at row 2, column 2")
        }
    }
}
