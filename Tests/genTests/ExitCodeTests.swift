import Foundation
import XCTest

/// The README's error convention, one test per bad input: exactly one line on standard error,
/// `gen: error: …` naming the flag or file, the documented exit code (64 flag, 65 bad data,
/// 66 missing input, 73 cannot write output), no raw Foundation text, and nothing written.
final class ExitCodeTests: XCTestCase {
    var tmp: URL!
    /// The run directory each bad command names; it must not appear.
    var out: String { tmp.appendingPathComponent("run").path }

    override func setUpWithError() throws {
        tmp = try Reliability.temporaryDirectory("exit")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    /// Runs `gen args` and checks the convention; returns the error line.
    @discardableResult
    func expect(_ args: [String], exit code: Int32, mentions needles: [String],
                        file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let r = try GenRunner.run(args)
        XCTAssertEqual(r.status, code, "exit code of \(args): \(r.stderr)", file: file, line: line)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        XCTAssertEqual(lines.count, 1, "one error line: \(r.stderr)", file: file, line: line)
        let first = String(lines.first ?? "")
        XCTAssertTrue(first.hasPrefix("gen: error: "), first, file: file, line: line)
        for n in needles { XCTAssertTrue(first.contains(n), "should mention \(n): \(first)", file: file, line: line) }
        for raw in ["NSCocoaErrorDomain", "Error Domain=", "The operation could not be completed", "Fatal error"] {
            XCTAssertFalse(r.stderr.contains(raw), first, file: file, line: line)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written for \(args)", file: file, line: line)
        return first
    }

    // MARK: flags (64)

    func testNegativeEpochsIsAValueNotAMissingOne() throws {
        try expect(["train", "vae", "--epochs", "-1", "--out", out], exit: 64,
                   mentions: ["--epochs must be at least 1, got -1"])
    }

    func testNegativeLearningRate() throws {
        try expect(["train", "vae", "--lr", "-0.001", "--out", out], exit: 64,
                   mentions: ["--lr must be a positive number, got -0.001"])
    }

    func testNegativeBatchSize() throws {
        try expect(["train", "gan", "--batch-size", "-5", "--out", out], exit: 64,
                   mentions: ["--batch-size must be at least 1, got -5"])
    }

    func testNegativeSeed() throws {
        try expect(["train", "vae", "--seed", "-1", "--out", out], exit: 64, mentions: ["'-1'", "--seed"])
    }

    func testNegativeSampleCount() throws {
        try expect(["sample", "--checkpoint", tmp.path, "--count", "-3", "--out", out + ".png"], exit: 64,
                   mentions: ["--count must be in 1...65536, got -3"])
    }

    /// The average's decay must be a weight in [0, 1) (0: off), and only the GAN has one.
    func testEMADecayOutOfRangeOrForTheVAE() throws {
        try expect(["train", "gan", "--ema-decay", "1", "--out", out], exit: 64,
                   mentions: ["--ema-decay must be in [0, 1), got 1.0"])
        try expect(["train", "gan", "--arch", "dcgan", "--ema-decay", "nan", "--out", out], exit: 64,
                   mentions: ["--ema-decay must be in [0, 1), got nan"])
        try expect(["train", "vae", "--ema-decay", "0.9", "--out", out], exit: 64,
                   mentions: ["--ema-decay apply to gan only"])
    }

    func testUnknownFlagPointsAtHelp() throws {
        try expect(["train", "vae", "--bogus", "3", "--out", out], exit: 64,
                   mentions: ["--bogus", "gen train --help"])
    }

    // MARK: missing inputs (66)

    func testMissingDataFile() throws {
        try expect(["train", "vae", "--data", tmp.appendingPathComponent("nope.csv").path, "--out", out],
                   exit: 66, mentions: ["--data", "nope.csv", "no such file or directory"])
    }

    /// `eval` takes the run as an argument: the message must not name a --checkpoint flag.
    func testEvalMissingRunNamesNoCheckpointFlag() throws {
        let l = try expect(["eval", "/nope"], exit: 66, mentions: ["/nope", "no such directory"])
        XCTAssertFalse(l.contains("--checkpoint"), l)
    }

    func testSampleMissingCheckpoint() throws {
        try expect(["sample", "--checkpoint", "/nope", "--out", out + ".png"], exit: 66,
                   mentions: ["--checkpoint /nope: no such directory"])
    }

    func testResumeMissingRun() throws {
        try expect(["train", "--resume", tmp.appendingPathComponent("gone").path], exit: 66,
                   mentions: ["--resume", "gone: no such directory"])
    }

    func testReportMissingRun() throws {
        try expect(["report", "/nope"], exit: 66, mentions: ["/nope: no such directory"])
    }

    func testMissingClassifier() throws {
        try expect(["train", "vae", "--eval-every", "1", "--classifier", "/nope.safetensors", "--out", out],
                   exit: 66, mentions: ["--classifier /nope.safetensors: not found"])
    }

    // MARK: bad data (65)

    func testDataWithNaN() throws {
        let csv = tmp.appendingPathComponent("nan.csv")
        try "0.1,0.2\n0.3,nan\n".write(to: csv, atomically: true, encoding: .utf8)
        try expect(["train", "vae", "--data", csv.path, "--out", out], exit: 65,
                   mentions: ["nan.csv", "NaN at row 2, column 2"])
    }

    func testSamplesFileNotNPY() throws {
        let file = tmp.appendingPathComponent("s.npy")
        try Data("not numpy".utf8).write(to: file)
        try expect(["eval", "--samples", file.path, "--range", "unit", "--out", out], exit: 65,
                   mentions: ["s.npy", "not an NPY file"])
    }

    // MARK: outputs that cannot be written (73)

    func testOutBelowAFile() throws {
        let file = tmp.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let run = file.appendingPathComponent("run").path
        let l = try expect(["train", "vae", "--epochs", "1", "--limit", "256", "--out", run], exit: 73,
                           mentions: ["--out \(run)", "\(file.path) is a file, not a directory"])
        XCTAssertFalse(l.contains("512"), l)
    }

    func testOutInUncreatableDirectory() throws {
        try expect(["train", "vae", "--epochs", "1", "--limit", "256", "--out", "/proc/gen-run"], exit: 73,
                   mentions: ["--out /proc/gen-run", "No such file or directory"])
    }

    func testSampleGridUnwritable() throws {
        let run = try tinyRun()
        try expect(["sample", "--checkpoint", run.path, "--out", "/proc/gen-grid.png"], exit: 73,
                   mentions: ["/proc/gen-grid.png", "No such file or directory"])
    }

    func testOutHoldingARun() throws {
        let run = try tinyRun()
        let config = try Data(contentsOf: run.appendingPathComponent("config.json"))
        try expect(["train", "vae", "--epochs", "1", "--limit", "256", "--hidden", "8", "--out", run.path],
                   exit: 73, mentions: ["already holds a run", "gen train --resume \(run.path)"])
        XCTAssertEqual(try Data(contentsOf: run.appendingPathComponent("config.json")), config, "the run is untouched")
    }

    /// A one-epoch VAE of 256 samples (4 hidden units) in `tmp/tiny`.
    private func tinyRun() throws -> URL {
        let run = tmp.appendingPathComponent("tiny")
        let r = try GenRunner.run(["train", "vae", "--epochs", "1", "--limit", "256", "--hidden", "4",
                                   "--latent-dim", "2", "--threads", "1", "--out", run.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        return run
    }
}
