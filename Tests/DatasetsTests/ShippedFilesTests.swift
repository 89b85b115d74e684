import Datasets
import FileIO
import Foundation
import XCTest

/// `ShippedFiles` (where data/mnist and the classifier are found) and `SystemErrorText`
/// (Foundation errors as strerror text).
final class ShippedFilesTests: XCTestCase {
    /// This file's package root, derived independently of `ShippedFiles`.
    let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// From a directory with no data/mnist, the package's copy is still found (through the
    /// test binary's location under .build, or the source tree).
    func testFindsShippedMNISTFromAnotherDirectory() throws {
        let fm = FileManager.default
        let saved = fm.currentDirectoryPath
        defer { _ = fm.changeCurrentDirectoryPath(saved) }
        XCTAssertTrue(fm.changeCurrentDirectoryPath(NSTemporaryDirectory()))
        XCTAssertEqual(MNIST.defaultDirectory()?.path, root.appendingPathComponent("data/mnist").path)
        XCTAssertNil(ShippedFiles.locate("data/no-such-set", directory: true))
        // A file is not a directory match, and the other way round.
        XCTAssertNil(ShippedFiles.locate("data/mnist", directory: false))
        XCTAssertNotNil(ShippedFiles.locate("Package.swift", directory: false))
        let roots = ShippedFiles.searchRoots()
        XCTAssertEqual(roots.first?.origin, "the current directory", "no $GEN_HOME in the test environment")
        // The package root is among them (as an ancestor of the test binary under .build, or
        // as the source tree; duplicates are listed once).
        XCTAssertEqual(roots.filter { $0.directory.standardizedFileURL.path == root.path }.count, 1)
    }

    func testCocoaErrorsBecomeStrerrorText() {
        XCTAssertEqual(SystemErrorText.describe(CocoaError(.fileWriteVolumeReadOnly)), "Read-only file system")
        XCTAssertEqual(SystemErrorText.describe(CocoaError(.fileReadNoSuchFile)), "No such file or directory")
        XCTAssertEqual(SystemErrorText.describe(CocoaError(.fileWriteNoPermission)), "Permission denied")
        XCTAssertEqual(SystemErrorText.describe(CocoaError(.fileWriteOutOfSpace)), "No space left on device")
        let wrapped = NSError(domain: NSCocoaErrorDomain, code: 512,
                              userInfo: [NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(ENOTDIR))])
        XCTAssertEqual(SystemErrorText.describe(wrapped), "Not a directory")
        XCTAssertEqual(SystemErrorText.describe(POSIXError(.EACCES)), "Permission denied")
    }

    /// Foundation's cause-less 512 (fileWriteUnknown) is explained from the path: an ancestor
    /// that is a file.
    func testUnknownWriteErrorExplainedFromThePath() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sft-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let target = file.appendingPathComponent("run/samples").path
        XCTAssertEqual(SystemErrorText.describe(CocoaError(.fileWriteUnknown), path: target),
                       "\(file.path) is a file, not a directory")
        var thrown: Error?
        do { try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true) } catch { thrown = error }
        let text = SystemErrorText.describe(try XCTUnwrap(thrown), path: target)
        XCTAssertFalse(text.contains("NSCocoaErrorDomain") || text.contains("could not be completed"), text)
    }
}
