import Datasets
import Foundation
import Linalg
import XCTest

/// NPY reading of files written by numpy (scripts/make_npy_fixtures.py -> Fixtures/*.npy),
/// round trips, and malformed headers.
final class NPYTests: XCTestCase {
    var dir: URL!
    let fixtures = packageRoot().appendingPathComponent("Tests/DatasetsTests/Fixtures")

    override func setUpWithError() throws { dir = try makeTempDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testReadsNumpyFloat32Matrix() throws {
        let m = try NPY.readMatrix(contentsOf: fixtures.appendingPathComponent("f32_3x5.npy"))
        XCTAssertEqual(m.rows, 3)
        XCTAssertEqual(m.cols, 5)
        for i in 0..<3 {
            for j in 0..<5 { XCTAssertEqual(m[i, j], Float(i * 10) + Float(j) / 4 - 1.5) }
        }
    }

    func testReadsNumpyFloat32Vector() throws {
        // A 1-D array is N samples of one value (N x 1), as np.save(x) of N scalars means.
        let m = try NPY.readMatrix(contentsOf: fixtures.appendingPathComponent("f32_1d.npy"))
        XCTAssertEqual(m.rows, 5)
        XCTAssertEqual(m.cols, 1)
        // numpy rounds the Python float (a Double) to float32: do the same.
        XCTAssertEqual(m.elements, [0.1, -2.0, Float(Double(3e-39)), 1e30, .infinity])
    }

    func testReadsNumpyUInt8Images() throws {
        let m = try NPY.readMatrix(contentsOf: fixtures.appendingPathComponent("u8_2x3x4.npy"))
        XCTAssertEqual(m.rows, 2)
        XCTAssertEqual(m.cols, 12)
        for k in 0..<2 {
            for p in 0..<12 { XCTAssertEqual(m[k, p], Float((k * 12 + p) * 10 % 256)) }
        }
    }

    func testWriteIsByteIdenticalToNumpy() throws {
        // Same values as the numpy fixture: the header, padding and data must match np.save.
        var m = Matrix(rows: 3, cols: 5)
        for i in 0..<3 { for j in 0..<5 { m[i, j] = Float(i * 10) + Float(j) / 4 - 1.5 } }
        let url = dir.appendingPathComponent("m.npy")
        try NPY.write(m, to: url)
        XCTAssertEqual(try Data(contentsOf: url),
                       try Data(contentsOf: fixtures.appendingPathComponent("f32_3x5.npy")))
        XCTAssertEqual(try NPY.readMatrix(contentsOf: url), m)
    }

    func testWriteBytesIsByteIdenticalToNumpy() throws {
        let bytes = (0..<24).map { UInt8($0 * 10 % 256) }
        let url = dir.appendingPathComponent("b.npy")
        try NPY.writeBytes(bytes, shape: [2, 3, 4], to: url)
        XCTAssertEqual(try Data(contentsOf: url),
                       try Data(contentsOf: fixtures.appendingPathComponent("u8_2x3x4.npy")))
        assertDatasetError(try NPY.writeBytes(bytes, shape: [5, 5], to: url), contains: [url.path, "[5, 5]"])
    }

    func testRoundTripRandomAndEmpty() throws {
        var rng = Xoshiro256(seed: 7)
        let m = Matrix.normal(rows: 17, cols: 33, using: &rng)
        let url = dir.appendingPathComponent("r.npy")
        try NPY.write(m, to: url)
        XCTAssertEqual(try NPY.readMatrix(contentsOf: url), m)
        let e = Matrix(rows: 0, cols: 4)
        try NPY.write(e, to: url)
        let back = try NPY.readMatrix(contentsOf: url)
        XCTAssertEqual(back.rows, 0)
        XCTAssertEqual(back.cols, 4)
    }

    func testFloat64IsConvertedAndOtherDtypesAndOrderRefused() throws {
        // scripts/make_npy_fixtures.py: np.eye(2, dtype="<f8"), np.save's default float64.
        let f64 = try NPY.read(contentsOf: fixtures.appendingPathComponent("f64_2x2.npy"))
        XCTAssertEqual(f64.matrix.elements, [1, 0, 0, 1])
        XCTAssertEqual(f64.dtype, "<f8")
        try check(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", data: [0, 0, 0, 0]),
                  ["unsupported dtype '>f4'"])
        let fortran = fixtures.appendingPathComponent("f32_fortran.npy")
        assertDatasetError(try NPY.readMatrix(contentsOf: fortran), contains: [fortran.path, "fortran_order"])
    }

    /// An NPY v1.0 file with `header` (padded to 64 bytes) followed by `data`.
    func npy(_ header: String, data: [UInt8] = []) -> [UInt8] {
        var h = Array(header.utf8)
        while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
        h.append(0x0A)
        return [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + data
    }

    func check(_ bytes: [UInt8], _ fragments: [String], line: UInt = #line) throws {
        let url = dir.appendingPathComponent("bad.npy")
        try Data(bytes).write(to: url)
        assertDatasetError(try NPY.readMatrix(contentsOf: url), contains: [url.path] + fragments, line: line)
    }

    func testBadHeaders() throws {
        let ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
        let eight = [UInt8](repeating: 0, count: 8)
        try check(Array("NUMPY0123456".utf8), ["bad magic"])
        try check([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 0xFF, 0x00, 0x7B], ["runs past the end"])
        try check([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 9, 0, 0, 0], ["unsupported NPY version 9.0"])
        try check(npy("{'descr': '<f4', 'shape': (2,), }", data: eight), ["missing key 'fortran_order'"])
        try check(npy("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", data: eight), ["True or False"])
        try check(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }", data: eight), ["bad header"])
        try check(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", data: eight), ["integer"])
        try check(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", data: eight), ["unexpected key 'x'"])
        try check(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", data: eight), ["'>f4'"])
        try check(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", data: eight), ["0-D"])
        try check(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 2), }", data: eight), ["4-D"])
        // Size checks: short data, trailing data, and a huge claim (no allocation attempted).
        try check(npy(ok, data: [0, 0, 0]), ["data has 3 bytes", "needs 8"])
        try check(npy(ok, data: eight + [1]), ["data has 9 bytes"])
        try check(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (999999999, 999999999), }"), ["needs"])
        try check(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (999999999999999999, 99), }"), ["overflows"])
        // Sanity: the well-formed header parses.
        let url = dir.appendingPathComponent("good.npy")
        try Data(npy(ok, data: eight)).write(to: url)
        XCTAssertEqual(try NPY.readMatrix(contentsOf: url), Matrix(rows: 2, cols: 1), "(2,): two samples of one value")
    }
}
