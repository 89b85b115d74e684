import Datasets
import Foundation
import Linalg
import XCTest

final class CSVTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try makeTempDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func file(_ text: String) throws -> URL {
        let url = dir.appendingPathComponent("d.csv")
        try Data(text.utf8).write(to: url)
        return url
    }

    func testNumericWithDetectedHeader() throws {
        let url = try file("x,y,z\r\n1, 2.5 ,-3e-2\r\n\r\n4,5,6\r\n")
        let m = try CSV.readMatrix(contentsOf: url)
        XCTAssertEqual(m, Matrix([[1, 2.5, -0.03], [4, 5, 6]]))
    }

    func testNoHeaderDetectedAndNoTrailingNewline() throws {
        let m = try CSV.readMatrix(contentsOf: try file("1,2\n3,4"))
        XCTAssertEqual(m, Matrix([[1, 2], [3, 4]]))
    }

    func testExplicitHeaderFlag() throws {
        let url = try file("10,20\n1,2\n")
        XCTAssertEqual(try CSV.readMatrix(contentsOf: url, hasHeader: true), Matrix([[1, 2]]))
        XCTAssertEqual(try CSV.readMatrix(contentsOf: url, hasHeader: false), Matrix([[10, 20], [1, 2]]))
        let named = try file("a,b\n1,2\n")
        assertDatasetError(try CSV.readMatrix(contentsOf: named, hasHeader: false),
                           contains: [named.path, "line 1, column 1", "'a' is not a number"])
    }

    func testRaggedRowNamesLine() throws {
        let url = try file("a,b,c\n1,2,3\n4,5\n")
        assertDatasetError(try CSV.readMatrix(contentsOf: url),
                           contains: [url.path, "line 3: 2 columns, expected 3 (as on line 2)"])
    }

    func testNonNumericNamesLineAndColumn() throws {
        let url = try file("1,2,3\n4,five,6\n")
        assertDatasetError(try CSV.readMatrix(contentsOf: url),
                           contains: [url.path, "line 2, column 2", "'five'"])
        let empty = try file("1,2,3\n4,,6\n")
        assertDatasetError(try CSV.readMatrix(contentsOf: empty),
                           contains: [empty.path, "line 2, column 2: empty field"])
    }

    /// A first line with some numeric fields is data: its bad or empty field is reported (it
    /// used to be taken for a header and silently dropped).
    func testFirstLineWithANumberIsNotAHeader() throws {
        let empty = try file("0.1,,0.2\n0.3,0.4,0.5\n")
        assertDatasetError(try CSV.readMatrix(contentsOf: empty),
                           contains: [empty.path, "line 1, column 2: empty field"])
        let word = try file("1,abc\n2,3\n")
        assertDatasetError(try CSV.readMatrix(contentsOf: word),
                           contains: [word.path, "line 1, column 2", "'abc'"])
        XCTAssertEqual(try CSV.readMatrix(contentsOf: try file("x,,z\n1,2,3\n")), Matrix([[1, 2, 3]]))
    }

    /// A UTF-8 byte-order mark before the first line is skipped (it made the first data line
    /// look like a header, losing a sample).
    func testByteOrderMarkIsSkipped() throws {
        XCTAssertEqual(try CSV.readMatrix(contentsOf: try file("\u{FEFF}1,2\n3,4\n")), Matrix([[1, 2], [3, 4]]))
        XCTAssertEqual(try CSV.readMatrix(contentsOf: try file("\u{FEFF}x,y\n3,4\n")), Matrix([[3, 4]]))
    }

    func testEmptyOrHeaderOnlyFile() throws {
        let url = try file("a,b\n\n")
        assertDatasetError(try CSV.readMatrix(contentsOf: url), contains: [url.path, "no numeric data"])
        let missing = dir.appendingPathComponent("missing.csv")
        assertDatasetError(try CSV.readMatrix(contentsOf: missing), contains: [missing.path, "cannot read"])
    }
}
