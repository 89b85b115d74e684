import Datasets
import Foundation
import XCTest

/// IDX reading on hand-built fixture files, raw and gzip.
final class IDXTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws { dir = try makeTempDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// 3 images of 2x2 with bytes 0...11, and their labels.
    let imageData: [UInt8] = Array(0..<12)
    let labelData: [UInt8] = [7, 0, 9]

    func write(_ bytes: [UInt8], _ name: String, gzip: Bool = false) throws -> URL {
        let url = dir.appendingPathComponent(name)
        if gzip { try writeGzip(bytes, to: url) } else { try Data(bytes).write(to: url) }
        return url
    }

    func testRawAndGzipGiveTheSameArray() throws {
        let bytes = idxBytes(dims: [3, 2, 2], data: imageData)
        for gz in [false, true] {
            let url = try write(bytes, gz ? "a.gz" : "a", gzip: gz)
            let a = try IDX.read(contentsOf: url)
            XCTAssertEqual(a.dimensions, [3, 2, 2])
            XCTAssertEqual(a.bytes, imageData)
        }
        // Gzip is detected by content, not by name.
        let a = try IDX.read(contentsOf: try write(bytes, "gz-without-suffix", gzip: true))
        XCTAssertEqual(a.bytes, imageData)
    }

    func testLargeDimensionBigEndian() throws {
        // 300 = 0x012C exercises the byte order of the dimension fields.
        let data = (0..<300).map { UInt8($0 % 256) }
        let a = try IDX.read(contentsOf: try write(idxBytes(dims: [300], data: data), "l.gz", gzip: true))
        XCTAssertEqual(a.dimensions, [300])
        XCTAssertEqual(a.bytes, data)
    }

    func testTruncatedRaw() throws {
        let bytes = idxBytes(dims: [3, 2, 2], data: imageData)
        let url = try write(Array(bytes.dropLast(3)), "t")
        assertDatasetError(try IDX.read(contentsOf: url), contains: [url.path, "truncated", "9", "12"])
        let header = try write(Array(bytes.prefix(7)), "h")
        assertDatasetError(try IDX.read(contentsOf: header), contains: [header.path, "dimensions"])
    }

    func testTruncatedGzipData() throws {
        // A complete gzip stream whose content is short of the dimensions.
        let url = try write(idxBytes(dims: [3, 2, 2], data: Array(imageData.prefix(10))), "s.gz", gzip: true)
        assertDatasetError(try IDX.read(contentsOf: url), contains: [url.path, "truncated", "10", "12"])
    }

    func testTruncatedGzipStream() throws {
        // Cut the compressed file itself: the deflate stream / trailer is incomplete.
        let data = (0..<5000).map { UInt8(($0 * 7919) % 251) }
        let full = try write(idxBytes(dims: [5000], data: data), "full.gz", gzip: true)
        let gz = try Data(contentsOf: full)
        for cut in [gz.count - 4, gz.count / 2] {
            let url = try write(Array(gz.prefix(cut)), "cut\(cut).gz")
            assertDatasetError(try IDX.read(contentsOf: url), contains: [url.path, "truncated"])
        }
    }

    func testCorruptGzipChecksum() throws {
        let full = try write(idxBytes(dims: [12], data: imageData), "c.gz", gzip: true)
        var gz = [UInt8](try Data(contentsOf: full))
        gz[gz.count - 8] ^= 0xFF  // first CRC-32 byte of the trailer
        let url = try write(gz, "crc.gz")
        assertDatasetError(try IDX.read(contentsOf: url), contains: [url.path, "corrupt gzip"])
    }

    func testTrailingBytes() throws {
        let bytes = idxBytes(dims: [3, 2, 2], data: imageData + [1, 2])
        for gz in [false, true] {
            let url = try write(bytes, gz ? "tr.gz" : "tr", gzip: gz)
            assertDatasetError(try IDX.read(contentsOf: url), contains: [url.path, "trailing"])
        }
    }

    func testWrongMagic() throws {
        var bytes = idxBytes(dims: [12], data: imageData)
        bytes[0] = 0x1F
        let url = try write(bytes, "m")
        assertDatasetError(try IDX.read(contentsOf: url), contains: [url.path, "bad magic 0x1F000801"])
        // Labels file where images are expected: the MNIST role check.
        let labels = try write(idxBytes(dims: [3], data: labelData), "lab")
        assertDatasetError(try IDX.read(contentsOf: labels, expectedDimensions: 3, role: "images"),
                           contains: [labels.path, "bad magic 0x00000801, expected 0x00000803 (images)"])
    }

    func testUnsupportedTypeCode() throws {
        let url = try write(idxBytes(type: 0x0D, dims: [3], data: Array(repeating: 0, count: 12)), "f")
        assertDatasetError(try IDX.read(contentsOf: url), contains: [url.path, "unsupported", "0xD", "float32"])
    }

    func testDimensionCountOutOfRange() throws {
        let zero = try write([0, 0, 8, 0], "z")
        assertDatasetError(try IDX.read(contentsOf: zero), contains: [zero.path, "dimension count 0"])
        let five = try write(idxBytes(dims: [1, 1, 1, 1, 1], data: [0]), "five")
        assertDatasetError(try IDX.read(contentsOf: five), contains: [five.path, "dimension count 5"])
    }

    func testHugeClaimedSizeFailsWithoutAllocating() throws {
        // Claims 4G x 4G x 255 bytes (overflows Int) and 2^32-1 x 2^32-1 (~1.8e19 > memory): both
        // must fail from the size check, not try to allocate.
        let overflow = try write(idxBytes(dims: [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFF], data: [1, 2, 3]), "o.gz", gzip: true)
        assertDatasetError(try IDX.read(contentsOf: overflow), contains: [overflow.path, "overflow"])
        let big = try write(idxBytes(dims: [0xFFFF_FFFF, 0xFFFF_FFF], data: [1, 2, 3]), "b.gz", gzip: true)
        assertDatasetError(try IDX.read(contentsOf: big), contains: [big.path, "truncated", "after 3 bytes"])
        let bigRaw = try write(idxBytes(dims: [0xFFFF_FFFF, 0xFFFF_FFF], data: [1, 2, 3]), "b")
        assertDatasetError(try IDX.read(contentsOf: bigRaw), contains: [bigRaw.path, "truncated"])
    }

    func testMissingFile() {
        let url = dir.appendingPathComponent("nope")
        assertDatasetError(try IDX.read(contentsOf: url), contains: [url.path, "cannot open"])
    }

    // MARK: MNIST.load validation on small fixture directories

    func writeSplit(images: [UInt8], imageDims: [Int], labels: [UInt8], gzip: Bool) throws {
        let suffix = gzip ? ".gz" : ""
        _ = try write(idxBytes(dims: imageDims, data: images), "t10k-images-idx3-ubyte" + suffix, gzip: gzip)
        _ = try write(idxBytes(dims: [labels.count], data: labels), "t10k-labels-idx1-ubyte" + suffix, gzip: gzip)
    }

    func testMNISTLoadRawFixture() throws {
        try writeSplit(images: imageData, imageDims: [3, 2, 2], labels: labelData, gzip: false)
        let s = try MNIST.load(.test, from: dir)
        XCTAssertEqual(s.count, 3)
        XCTAssertEqual(s.height, 2)
        XCTAssertEqual(s.width, 2)
        XCTAssertEqual(s.images, imageData)
        XCTAssertEqual(s.labels, labelData)
    }

    func testMNISTPrefersGzip() throws {
        try writeSplit(images: imageData, imageDims: [3, 2, 2], labels: labelData, gzip: false)
        let other: [UInt8] = Array(repeating: 200, count: 12)
        try writeSplit(images: other, imageDims: [3, 2, 2], labels: [1, 2, 3], gzip: true)
        let s = try MNIST.load(.test, from: dir)
        XCTAssertEqual(s.images, other)
        XCTAssertEqual(s.labels, [1, 2, 3])
    }

    func testMNISTCountMismatch() throws {
        try writeSplit(images: imageData, imageDims: [3, 2, 2], labels: [1, 2], gzip: true)
        assertDatasetError(try MNIST.load(.test, from: dir),
                           contains: ["t10k-labels-idx1-ubyte.gz", "2 labels", "3 images"])
    }

    func testMNISTLabelAboveNine() throws {
        try writeSplit(images: imageData, imageDims: [3, 2, 2], labels: [1, 10, 3], gzip: false)
        assertDatasetError(try MNIST.load(.test, from: dir),
                           contains: ["t10k-labels-idx1-ubyte", "label 10 at index 1"])
    }

    func testMNISTImagesMustBe3D() throws {
        try writeSplit(images: imageData, imageDims: [3, 4], labels: labelData, gzip: false)
        assertDatasetError(try MNIST.load(.test, from: dir),
                           contains: ["t10k-images-idx3-ubyte", "bad magic 0x00000802, expected 0x00000803 (images)"])
    }

    func testMNISTMissingFiles() {
        assertDatasetError(try MNIST.load(.train, from: dir),
                           contains: ["train-images-idx3-ubyte.gz", "not found"])
    }
}
