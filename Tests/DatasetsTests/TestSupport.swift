import CZlib
import Datasets
import Foundation
import XCTest

/// A fresh temporary directory per test, removed afterwards.
func makeTempDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("DatasetsTests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `bytes` gzip-compressed through zlib's gzopen/gzwrite (an independent encoder path
/// from the reader's gzread).
func writeGzip(_ bytes: [UInt8], to url: URL) throws {
    guard let gz = gzopen(url.path, "wb") else { throw CocoaError(.fileWriteUnknown) }
    let n = bytes.withUnsafeBytes { gzwrite(gz, $0.baseAddress, UInt32($0.count)) }
    let closed = gzclose(gz)
    guard n == Int32(bytes.count) || bytes.isEmpty, closed == Z_OK else {
        throw CocoaError(.fileWriteUnknown)
    }
}

/// An IDX file's bytes built by hand: magic `00 00 type ndims`, big-endian dims, data.
func idxBytes(type: UInt8 = 0x08, dims: [Int], data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = [0, 0, type, UInt8(dims.count)]
    for d in dims {
        out += [UInt8(d >> 24 & 0xFF), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)]
    }
    return out + data
}

/// The package root, found from this file's path (Tests/DatasetsTests/TestSupport.swift).
func packageRoot(_ file: String = #filePath) -> URL {
    URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
}

/// Asserts that `body` throws a `DatasetError` whose description contains every fragment.
func assertDatasetError<T>(_ body: @autoclosure () throws -> T, contains fragments: [String],
                           file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected a DatasetError containing \(fragments)", file: file, line: line)
    } catch let error as DatasetError {
        let text = error.description
        for f in fragments where !text.contains(f) {
            XCTFail("error '\(text)' does not contain '\(f)'", file: file, line: line)
        }
    } catch {
        XCTFail("not a DatasetError: \(error)", file: file, line: line)
    }
}

