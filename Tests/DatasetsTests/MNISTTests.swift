import Datasets
import Foundation
import XCTest

/// The real MNIST files shipped in data/mnist, checked against the facts in data/mnist/README.md.
final class MNISTTests: XCTestCase {
    let directory = packageRoot().appendingPathComponent("data/mnist")

    func testTrainSplitMatchesPublishedFacts() throws {
        let train = try MNIST.load(.train, from: directory)
        XCTAssertEqual(train.count, 60000)
        XCTAssertEqual(train.height, 28)
        XCTAssertEqual(train.width, 28)
        XCTAssertEqual(train.sampleSize, 784)
        XCTAssertEqual(train.images.count, 60000 * 784)
        XCTAssertEqual(train.labels.count, 60000)
        XCTAssertEqual(Array(train.labels.prefix(10)), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        var counts = [Int](repeating: 0, count: 10)
        for l in train.labels { counts[Int(l)] += 1 }
        XCTAssertEqual(counts, [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    }

    func testTestSplitFirstLabels() throws {
        let test = try MNIST.load(.test, from: directory)
        XCTAssertEqual(test.count, 10000)
        XCTAssertEqual(test.height, 28)
        XCTAssertEqual(test.width, 28)
        XCTAssertEqual(Array(test.labels.prefix(10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    }

    /// The current directory's data/mnist comes first; from a directory without one, the
    /// package's copy is found anyway (issue 11: gen works from any directory; this test
    /// asserted nil there before).
    func testDefaultDirectoryPrefersCurrentDirectoryThenPackage() throws {
        let fm = FileManager.default
        let saved = fm.currentDirectoryPath
        defer { _ = fm.changeCurrentDirectoryPath(saved) }
        XCTAssertTrue(fm.changeCurrentDirectoryPath(packageRoot().path))
        XCTAssertEqual(MNIST.defaultDirectory()?.standardizedFileURL.path,
                       directory.standardizedFileURL.path)
        let empty = try makeTempDirectory()
        defer { try? fm.removeItem(at: empty) }
        XCTAssertTrue(fm.changeCurrentDirectoryPath(empty.path))
        XCTAssertEqual(MNIST.defaultDirectory()?.standardizedFileURL.path, directory.standardizedFileURL.path)
        let local = empty.appendingPathComponent("data/mnist")
        try fm.createDirectory(at: local, withIntermediateDirectories: true)
        XCTAssertEqual(MNIST.defaultDirectory()?.path, local.standardizedFileURL.path)
    }
}
