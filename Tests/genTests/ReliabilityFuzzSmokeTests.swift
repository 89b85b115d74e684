import Foundation
import XCTest

/// A short smoke run of every parser's fuzz target: the committed corpus (which holds the
/// regression inputs) is replayed, then each target fuzzes for 3 s (about 20 s in all). The
/// targets live in the separate package `Fuzz/` (libFuzzer supplies `main`); this test builds
/// it in debug with libFuzzer + ASan into `.build-fuzz/smoke` (about 30-60 s the first time,
/// incremental afterwards) and is skipped, with the build's output, when that build does not
/// work on this toolchain. `FUZZ_BIN=<dir>` uses prebuilt targets instead. Full runs:
/// `scripts/fuzz` (1,000,000 executions per parser by default).
final class ReliabilityFuzzSmokeTests: XCTestCase {
    static let targets = ["idx", "idx-gz", "npy", "csv", "safetensors", "runconfig"]

    /// Builds the fuzz package (debug) and returns its products directory, or skips when the
    /// toolchain cannot build libFuzzer targets. A compile error in our code fails the test.
    private func buildTargets(root: URL) throws -> URL {
        if let dir = ProcessInfo.processInfo.environment["FUZZ_BIN"] { return URL(fileURLWithPath: dir) }
        let scratch = root.appendingPathComponent(".build-fuzz/smoke")
        var (status, text) = try build(root: root, scratch: scratch)
        if status != 0 {
            // An incremental build of the path dependency can miss files added since: retry clean.
            try? FileManager.default.removeItem(at: scratch)
            (status, text) = try build(root: root, scratch: scratch)
        }
        if status != 0 && text.contains(".swift:") && text.contains("error:") {
            XCTFail("the fuzz package does not compile:\n\(text.suffix(3000))")
        }
        guard status == 0 else {
            throw XCTSkip("the libFuzzer build of Fuzz/ does not work here:\n\(text.suffix(1500))")
        }
        return scratch.appendingPathComponent("debug")
    }

    private func build(root: URL, scratch: URL) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["swift", "build", "-c", "debug", "--scratch-path", scratch.path,
                       "-Xswiftc", "-sanitize=fuzzer,address", "-Xswiftc", "-parse-as-library",
                       "-Xswiftc", "-use-ld=lld"]
        p.currentDirectoryURL = root.appendingPathComponent("Fuzz")
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    func testFuzzTargetsSmoke() throws {
        let root = CLITests.root
        let bin = try buildTargets(root: root)
        let missing = Self.targets.filter { !FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("fuzz-\($0)").path) }
        XCTAssertEqual(missing, [], "fuzz targets missing in \(bin.path)")
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
