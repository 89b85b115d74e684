import CPNG
import Datasets
import FileIO
import Foundation
import Linalg
import XCTest

final class PNGTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try makeTempDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Decodes a PNG to 8-bit grey with libpng's simplified read API (independent of the writer).
    func readGray(_ url: URL) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        var image = png_image()
        image.version = png_uint_32(PNG_IMAGE_VERSION)
        guard png_image_begin_read_from_file(&image, url.path) != 0 else {
            throw CocoaError(.fileReadCorruptFile)
        }
        image.format = png_uint_32(PNG_FORMAT_GRAY)
        let w = Int(image.width), h = Int(image.height)
        var pixels = [UInt8](repeating: 0, count: w * h)
        let ok = pixels.withUnsafeMutableBytes {
            png_image_finish_read(&image, nil, $0.baseAddress, 0, nil)
        }
        guard ok != 0 else { throw CocoaError(.fileReadCorruptFile) }
        return (w, h, pixels)
    }

    func testGridLayoutAndValues() throws {
        // 5 images of 2x3 in a grid of 3 columns with 1 px padding: 2 grid rows.
        // Width 3*3 + 2*1 = 11, height 2*2 + 1*1 = 5.
        var images = Matrix(rows: 5, cols: 6)
        for k in 0..<5 {
            for p in 0..<6 { images[k, p] = Float(k) * 0.2 + Float(p) * 0.01 }
        }
        images[0, 0] = -3            // clamps to 0
        images[0, 1] = 7             // clamps to 255
        images[0, 2] = .nan          // NaN -> 0
        images[1, 0] = 0.5           // (0.5 - 0) * 255 = 127.5 -> 128
        let url = dir.appendingPathComponent("grid.png")
        try PNGImage.writeGrid(images, height: 2, width: 3, columns: 3, range: 0...1, padding: 1,
                               background: 77, to: url)
        let (w, h, px) = try readGray(url)
        XCTAssertEqual(w, 11)
        XCTAssertEqual(h, 5)
        func at(_ x: Int, _ y: Int) -> UInt8 { px[y * w + x] }
        XCTAssertEqual(at(0, 0), 0)
        XCTAssertEqual(at(1, 0), 255)
        XCTAssertEqual(at(2, 0), 0)
        XCTAssertEqual(at(3, 0), 77)         // padding column between image 0 and 1
        XCTAssertEqual(at(4, 0), 128)        // image 1, pixel 0
        // Image 4 sits at grid row 1, column 1: top-left (4, 3). Its pixel 5 (y 1, x 2) is
        // 0.8 + 0.05 = 0.85 -> 216.75 -> 217.
        XCTAssertEqual(at(4 + 2, 3 + 1), 217)
        XCTAssertEqual(at(0, 2), 77)         // padding row
        XCTAssertEqual(at(8, 3), 77)         // empty slot of the missing sixth image: background
    }

    func testSymmetricRange() throws {
        let images = Matrix([[-1, 0, 1, 0.5]])
        let url = dir.appendingPathComponent("sym.png")
        try PNGImage.writeGrid(images, height: 2, width: 2, columns: 8, range: -1...1, to: url)
        let (w, h, px) = try readGray(url)
        XCTAssertEqual(w, 2)
        XCTAssertEqual(h, 2)
        // (v + 1) / 2 * 255: 0, 127.5 -> 128, 255, 191.25 -> 191.
        XCTAssertEqual(px, [0, 128, 255, 191])
    }

    /// More columns than images, up to Int.max (the rounding-up division overflowed): one row
    /// of all the images.
    func testHugeColumnCountGivesOneRow() throws {
        let images = Matrix([[0, 1], [1, 0], [0, 0]])
        let url = dir.appendingPathComponent("row.png")
        try PNGImage.writeGrid(images, height: 1, width: 2, columns: Int.max, range: 0...1, padding: 1,
                               background: 9, to: url)
        let (w, h, px) = try readGray(url)
        XCTAssertEqual(w, 3 * 2 + 2)
        XCTAssertEqual(h, 1)
        XCTAssertEqual(px, [0, 255, 9, 255, 0, 9, 0, 0])
    }

    func testWriteGrayRoundTrip() throws {
        let pixels: [UInt8] = (0..<(7 * 3)).map { UInt8($0 * 12) }
        let url = dir.appendingPathComponent("g.png")
        try PNGImage.writeGray(pixels, width: 7, height: 3, to: url)
        let (w, h, px) = try readGray(url)
        XCTAssertEqual(w, 7)
        XCTAssertEqual(h, 3)
        XCTAssertEqual(px, pixels)
        // No temporary file left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["g.png"])
    }

    func testUnwritablePathThrows() {
        let url = dir.appendingPathComponent("no-such-dir/x.png")
        assertDatasetError(try PNGImage.writeGray([0, 1, 2, 3], width: 2, height: 2, to: url),
                           contains: [url.path, "No such file"])
    }

    func testAtomicWriteReplacesExistingFile() throws {
        let url = dir.appendingPathComponent("c.json")
        try AtomicFile.write(Data("old".utf8), to: url)
        try AtomicFile.write(Data("new contents".utf8), to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), "new contents")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["c.json"])
    }
}
