import Foundation
import XCTest

/// A short smoke run of every parser's fuzz target (replaying the committed corpus, which holds
/// the regression inputs, then a few seconds of fuzzing). The targets are built by
/// `scripts/fuzz` (a separate package with libFuzzer + ASan, about a minute to build): when
/// they are not built, the test is skipped with that instruction. Full runs: `scripts/fuzz`.
final class ReliabilityFuzzSmokeTests: XCTestCase {
    static let targets = ["idx", "idx-gz", "npy", "csv", "safetensors", "runconfig"]

    func testFuzzTargetsSmoke() throws {
        let root = CLITests.root
        let bin = URL(fileURLWithPath: ProcessInfo.processInfo.environment["FUZZ_BIN"]
                      ?? root.appendingPathComponent(".build-fuzz/build/release").path)
        let missing = Self.targets.filter { !FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("fuzz-\($0)").path) }
        guard missing.isEmpty else {
            throw XCTSkip("fuzz targets not built in \(bin.path) (run `scripts/fuzz 0` once, or set FUZZ_BIN)")
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-smoke-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        for t in Self.targets {
            let corpus = work.appendingPathComponent(t)
            try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
            let p = Process()
            p.executableURL = bin.appendingPathComponent("fuzz-\(t)")
            p.arguments = ["-max_total_time=3", "-max_len=4096", "-malloc_limit_mb=64", "-rss_limit_mb=1024",
                           "-timeout=10", "-artifact_prefix=\(work.path)/\(t)-", corpus.path,
                           root.appendingPathComponent("Fuzz/Corpus/\(t)").path]
            p.environment = ProcessInfo.processInfo.environment.merging(
                ["ASAN_OPTIONS": "detect_leaks=0", "SWIFT_BACKTRACE": "enable=no"]) { $1 }
            let log = Pipe()
            p.standardError = log
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "fuzz-\(t) found something:\n\(text.suffix(3000))")
            XCTAssertTrue(text.contains("Done"), "fuzz-\(t) did not finish its run:\n\(text.suffix(2000))")
        }
    }
}
