import Datasets
import Foundation
import Linalg
import XCTest

/// NPY.readSamples: generated samples mapped to [0, 1], round-off clamped, bad files refused.
final class SampleFileTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws { tmp = try makeTempDirectory() }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    func write(_ rows: [[Float]], _ name: String) throws -> URL {
        let url = tmp.appendingPathComponent(name)
        try NPY.write(Matrix(rows), to: url)
        return url
    }

    /// [-1, 1] -> [0, 1] is (x + 1) / 2: -1 -> 0, -0.5 -> 0.25, 0 -> 0.5, 1 -> 1; -1.0005 is
    /// round-off (clamped to -1 -> 0), 1.0009 too (-> 1).
    func testSymmetricSamplesMapToUnitRange() throws {
        let url = try write([[-1, -0.5, 0], [1, -1.0005, 1.0009]], "s.npy")
        let x = try NPY.readSamples(contentsOf: url, range: -1...1, width: 3)
        XCTAssertEqual(x, Matrix([[0, 0.25, 0.5], [1, 0, 1]]))
        let unit = try NPY.readSamples(contentsOf: try write([[0, 0.25], [1, 0.75]], "u.npy"), range: 0...1, width: 2)
        XCTAssertEqual(unit, Matrix([[0, 0.25], [1, 0.75]]))
    }

    func testWrongShapeOrValuesAreRefusedNamingTheFile() throws {
        let one = try write([[0, 0, 0]], "one.npy")
        XCTAssertThrowsError(try NPY.readSamples(contentsOf: one, range: 0...1, width: 3)) { e in
            XCTAssertEqual("\(e)", "\(one.path): expected N x 3 samples (N >= 2), got 1x3")
        }
        let far = try write([[0, 0.5], [1.01, 0]], "far.npy")
        XCTAssertThrowsError(try NPY.readSamples(contentsOf: far, range: 0...1, width: 2)) { e in
            XCTAssertEqual("\(e)", "\(far.path): value 1.01 outside the samples' range [0.0, 1.0]")
        }
        let nan = try write([[0, .nan], [1, 0]], "nan.npy")
        XCTAssertThrowsError(try NPY.readSamples(contentsOf: nan, range: 0...1, width: 2)) { e in
            XCTAssertTrue("\(e)".contains("value nan outside"), "\(e)")
        }
    }
}
