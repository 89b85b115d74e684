import Foundation
import XCTest
import Linalg
@testable import Datasets

/// Labels beside float data: `.npy` label files, a CSV label column, declared classes, and
/// the batches keeping each sample with its label.
final class LabelsTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws { dir = try makeTempDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// An NPY file as `np.save` writes it: version 1.0, header padded to 64 bytes.
    private func npy(_ name: String, descr: String, shape: String, data: [UInt8]) throws -> URL {
        var h = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
        while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
        h.append(0x0A)
        let bytes = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + data
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    private func int64s(_ v: [Int64]) -> [UInt8] { v.flatMap { x in (0..<8).map { UInt8(truncatingIfNeeded: x >> (8 * $0)) } } }
    private func float64s(_ v: [Double]) -> [UInt8] { v.flatMap { x in (0..<8).map { UInt8(truncatingIfNeeded: x.bitPattern >> (8 * $0)) } } }

    /// N x 2 float32 samples with values i/100, as a .npy.
    private func samples(_ n: Int) throws -> URL {
        let m = Matrix(rows: n, cols: 2, elements: (0..<(2 * n)).map { Float($0 / 2) / 100 })
        let url = dir.appendingPathComponent("x.npy")
        try NPY.write(m, to: url)
        return url
    }

    func testInt64AndWholeFloat64LabelFilesAreRead() throws {
        let a = try npy("a.npy", descr: "<i8", shape: "(5,)", data: int64s([3, 0, 2, 2, 1]))
        XCTAssertEqual(try NPY.readLabels(contentsOf: a), [3, 0, 2, 2, 1])
        let b = try npy("b.npy", descr: "<f8", shape: "(3, 1)", data: float64s([1, 0, 7]))
        XCTAssertEqual(try NPY.readLabels(contentsOf: b), [1, 0, 7])
        let d = try Dataset.load(path: try samples(5).path, limit: nil, labels: .file(a.path))
        XCTAssertEqual(d.numClasses, 4, "largest label + 1")
        XCTAssertEqual(d.train.labels, [3, 0, 2, 2, 1])
    }

    func testBadLabelFilesNameTheFileAndRow() throws {
        let neg = try npy("neg.npy", descr: "<i8", shape: "(3,)", data: int64s([0, 1, -1]))
        assertDatasetError(try NPY.readLabels(contentsOf: neg), contains: [neg.path, "row 3", "label -1 is negative"])
        let frac = try npy("frac.npy", descr: "<f8", shape: "(2,)", data: float64s([1, 2.5]))
        assertDatasetError(try NPY.readLabels(contentsOf: frac), contains: [frac.path, "row 2", "2.5 is not a whole number"])
        let wide = try npy("wide.npy", descr: "<i8", shape: "(1, 2)", data: int64s([0, 1]))
        assertDatasetError(try NPY.readLabels(contentsOf: wide), contains: [wide.path, "1-D array"])
        let few = try npy("few.npy", descr: "<i8", shape: "(4,)", data: int64s([0, 1, 0, 1]))
        let x = try samples(5)
        assertDatasetError(try Dataset.load(path: x.path, limit: nil, labels: .file(few.path)),
                           contains: [few.path, "4 labels for 5 samples", x.path])
        let ok = try npy("ok.npy", descr: "<i8", shape: "(5,)", data: int64s([0, 1, 2, 5, 1]))
        assertDatasetError(try Dataset.load(path: x.path, limit: nil, labels: .file(ok.path), classes: 3),
                           contains: [ok.path, "row 4", "label 5 is not one of the 3 classes"])
    }

    func testCSVLabelColumnIsTakenOutOfTheFeatures() throws {
        let url = dir.appendingPathComponent("kaggle.csv")
        try "label,p0,p1\n7,0,255\n2,255,0\n".write(to: url, atomically: true, encoding: .utf8)
        let d = try Dataset.load(path: url.path, limit: nil, labels: .column(1), classes: 10)
        XCTAssertEqual(d.sampleSize, 2)
        XCTAssertEqual(d.train.labels, [7, 2])
        XCTAssertEqual(d.numClasses, 10)
        guard case .floats(let m, _) = d.train else { return XCTFail() }
        XCTAssertEqual(m.elements, [0, 1, 1, 0], "0-255 bytes scaled to [0, 1]")
        assertDatasetError(try Dataset.load(path: url.path, limit: nil, labels: .column(4)),
                           contains: [url.path, "label column 4 is not one of its 3 columns"])
        let bad = dir.appendingPathComponent("bad.csv")
        try "1,0.5\n-2,0.5\n".write(to: bad, atomically: true, encoding: .utf8)
        assertDatasetError(try Dataset.load(path: bad.path, limit: nil, labels: .column(1)),
                           contains: [bad.path, "column 1, row 2: label -2 is negative"])
    }

    func testLabelSourcesThatDoNotFitTheData() throws {
        let x = try samples(3)
        assertDatasetError(try Dataset.load(path: x.path, limit: nil, labels: .column(1)),
                           contains: [x.path, "a label column needs a .csv"])
        assertDatasetError(try Dataset.load(path: x.path, limit: nil, classes: 3),
                           contains: [x.path, "3 classes declared but the samples have no labels"])
        let mnist = packageRoot().appendingPathComponent("data/mnist")
        let y = try npy("y.npy", descr: "<i8", shape: "(3,)", data: int64s([0, 1, 2]))
        assertDatasetError(try Dataset.load(path: mnist.path, limit: nil, labels: .file(y.path)),
                           contains: [y.path, "MNIST IDX files carry their own labels"])
    }

    /// Shuffled batches keep every sample with its label; the last batch holds the remainder.
    func testBatchesKeepSamplesWithTheirLabels() throws {
        let n = 10
        let m = Matrix(rows: n, cols: 2, elements: (0..<(2 * n)).map { Float($0 / 2) / 100 })
        let labels = (0..<n).map { Int32(($0 * 7) % 3) }
        var loader = DataLoader(.floats(m, labels: labels), batchSize: 4, scaling: .unit)
        var rng = Xoshiro256(seed: 5)
        var seen: [Int] = [], sizes: [Int] = []
        var batch = Batch()
        for _ in 0..<2 {
            loader.startEpoch(rng: &rng)
            while loader.next(into: &batch) {
                sizes.append(batch.count)
                for r in 0..<batch.count {
                    let i = Int((batch.x[r, 0] * 100).rounded())
                    XCTAssertEqual(batch.labels?[r], Int32((i * 7) % 3), "sample \(i) travels with its label")
                    seen.append(i)
                }
            }
        }
        XCTAssertEqual(sizes, [4, 4, 2, 4, 4, 2])
        XCTAssertEqual(seen.sorted(), (0..<n).flatMap { [$0, $0] })
        XCTAssertNotEqual(Array(seen[0..<n]), Array(0..<n), "the order is shuffled")
    }
}

extension LabelsTests {
    /// np.save's defaults: int64 and float64 data are converted (whole numbers of non-image
    /// rows scaled per column), and a 1-D array is N samples of one value; each change is a note
    /// naming the file.
    func testInt64AndOneDimensionalDataAreReadWithNotes() throws {
        let ints = try npyFile("ints.npy", descr: "<i8", shape: "(2, 2)", bytes: [0, 255, 51, 102].flatMap { v in
            (0..<8).map { UInt8(truncatingIfNeeded: Int64(v) >> (8 * $0)) } })
        let d = try Dataset.load(path: ints.path, limit: nil)
        guard case .floats(let m, _) = d.train else { return XCTFail() }
        XCTAssertEqual(m.elements, [0, 1, 1, 0], "columns [0, 51] and [255, 102] scaled to [0, 1]")
        XCTAssertTrue(d.notes.contains("\(ints.path): '<i8' values converted to float32"), "\(d.notes)")
        let line = try npyFile("line.npy", descr: "<f8", shape: "(3,)", bytes: [0.25, 0.5, 1].flatMap { (v: Double) in
            (0..<8).map { UInt8(truncatingIfNeeded: v.bitPattern >> (8 * $0)) } })
        let l = try Dataset.load(path: line.path, limit: 2)
        XCTAssertEqual([l.count, l.sampleSize], [2, 1])
        XCTAssertEqual(l.notes.count, 2, "\(l.notes)")
        XCTAssertTrue(l.notes[1].contains("a 1-D array of 3 values, read as 3 samples of one value"), "\(l.notes)")
    }

    private func npyFile(_ name: String, descr: String, shape: String, bytes: [UInt8]) throws -> URL {
        var h = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
        while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
        h.append(0x0A)
        let url = dir.appendingPathComponent(name)
        try Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + bytes).write(to: url)
        return url
    }
}

extension LabelsTests {
    /// A CSV header naming a label column is not trained as a feature by accident.
    func testCSVLabelHeaderWithoutLabelColumnIsRefused() throws {
        let url = dir.appendingPathComponent("named.csv")
        try "x0, Label ,x1\n0.1,3,0.2\n0.3,1,0.4\n".write(to: url, atomically: true, encoding: .utf8)
        assertDatasetError(try Dataset.load(path: url.path, limit: nil),
                           contains: [url.path, "column 2 is named 'Label'", "--label-column 2"])
        let d = try Dataset.load(path: url.path, limit: nil, labels: .column(2))
        XCTAssertEqual(d.train.labels, [3, 1])
        XCTAssertEqual(try CSV.read(contentsOf: url).header ?? [], ["x0", "Label", "x1"])
    }
}

extension LabelsTests {
    /// Real values outside [0, 1] (the 8-Gaussian ring has radius 2) are min-max scaled per
    /// column, recorded in `scaling`, and mapped back exactly; a constant column maps to 0.
    func testRealValuedDataIsScaledPerColumnAndBack() throws {
        let raw = Matrix([[-2, 5, 1], [2, 5, 0], [0, 5, 0.5]])
        let url = dir.appendingPathComponent("ring.npy")
        try NPY.write(raw, to: url)
        let d = try Dataset.load(path: url.path, limit: nil)
        XCTAssertEqual(d.scaling, FeatureScaling(low: [-2, 5, 0], high: [2, 5, 1]))
        guard case .floats(let m, _) = d.train else { return XCTFail() }
        XCTAssertEqual(m, Matrix([[0, 0, 1], [1, 0, 0], [0.5, 0, 0.5]]))
        var back = m
        d.scaling!.invert(&back)
        XCTAssertEqual(back, raw)
        XCTAssertTrue(d.notes.first?.contains("scaled to [0, 1] per column") ?? false, "\(d.notes)")
        XCTAssertNil(try Dataset.load(path: try samples(3).path, limit: nil).scaling, "data in [0, 1] is left alone")
    }
}

extension LabelsTests {
    /// Review findings: an enormous negative label is a clear error, not a trap; a header label
    /// column is refused also beside a label file; whole numbers that are not image bytes are
    /// scaled per column (and can be mapped back); a directory is not a label file.
    func testMoreBadLabelAndDataCases() throws {
        let huge = try npy("huge.npy", descr: "<f8", shape: "(2,)", data: float64s([1, -1e30]))
        assertDatasetError(try NPY.readLabels(contentsOf: huge), contains: [huge.path, "row 2", "is negative"])
        let named = dir.appendingPathComponent("named.csv")
        try "label,a\n1,0.5\n0,0.25\n".write(to: named, atomically: true, encoding: .utf8)
        let y = try npy("y2.npy", descr: "<i8", shape: "(2,)", data: int64s([0, 1]))
        assertDatasetError(try Dataset.load(path: named.path, limit: nil, labels: .file(y.path)),
                           contains: [named.path, "column 1 is named 'label'"])
        let ages = dir.appendingPathComponent("ages.csv")
        try "18,150\n90,200\n45,175\n".write(to: ages, atomically: true, encoding: .utf8)
        let d = try Dataset.load(path: ages.path, limit: nil)
        XCTAssertEqual(d.scaling, FeatureScaling(low: [18, 150], high: [90, 200]), "not divided by 255 as bytes")
        assertDatasetError(try NPY.readLabels(contentsOf: dir), contains: ["is a directory"])
    }
}
