import Foundation
import XCTest

/// Interrupt (SIGINT / SIGTERM) and resume: the interrupted run writes a checkpoint, exits with
/// 128 + signal and says how to resume; resuming gives final weights and optimiser state
/// bit-identical to an uninterrupted run with the same seed and thread count.
final class ReliabilityResumeTests: XCTestCase {
    var tmp: URL!

    override func setUpWithError() throws { tmp = try Reliability.temporaryDirectory("resume") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: tmp) }

    /// 3 epochs straight vs. interrupted mid-epoch 2 at `step` by `signal`, then resumed.
    private func checkResume(model: String, signal: String, step: Int, expectedStatus: Int32,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let data = tmp.appendingPathComponent("d.csv")
        try Reliability.writeCSV(rows: 256, cols: 64, to: data)
        let straight = tmp.appendingPathComponent("\(model)-straight")
        let broken = tmp.appendingPathComponent("\(model)-interrupted")
        var r = try Reliability.gen(Reliability.tinyRun(model, data: data, out: straight, epochs: 3, batch: 32))
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)

        r = try Reliability.gen(Reliability.tinyRun(model, data: data, out: broken, epochs: 3, batch: 32),
                                env: ["GEN_TEST_SIGNAL_AT_STEP": "\(step):\(signal)"])
        XCTAssertEqual(r.status, expectedStatus, r.stdout + r.stderr, file: file, line: line)
        XCTAssertTrue(r.stdout.contains("interrupted by SIG\(signal)"), r.stdout, file: file, line: line)
        // The hint names the binary by its absolute path (pasteable anywhere; `gen` need not be on PATH).
        XCTAssertTrue(r.stdout.contains("resume with: /") && r.stdout.contains("/gen train --resume \(broken.path)"),
                      r.stdout, file: file, line: line)
        let mid = broken.appendingPathComponent(String(format: "checkpoints/step-%08d", step))
        XCTAssertNil(Reliability.loadCheckpoint(mid), file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(
            atPath: broken.appendingPathComponent("checkpoints/step-00000024").path), "stopped early", file: file, line: line)

        r = try Reliability.gen(["train", "--resume", broken.path])
        XCTAssertEqual(r.status, 0, r.stderr, file: file, line: line)
        XCTAssertTrue(r.stdout.contains("epoch 2, batch \(step - 8), step \(step)"), r.stdout, file: file, line: line)

        // 256 samples / 32 = 8 steps per epoch: the final checkpoint is step 24 in both runs.
        let a = try Reliability.tensorBits(straight.appendingPathComponent("checkpoints/step-00000024"))
        let b = try Reliability.tensorBits(broken.appendingPathComponent("checkpoints/step-00000024"))
        XCTAssertGreaterThanOrEqual(a.count, 4, file: file, line: line)
        XCTAssertEqual(Set(a.keys), Set(b.keys), file: file, line: line)
        for (k, v) in a where b[k] != v {
            XCTFail("\(k) differs after resume", file: file, line: line)
        }
        // The interrupted epoch's metrics.csv row covers all its batches (the running sums are in
        // the checkpoint), so every epoch row equals the uninterrupted run's apart from timing.
        let straightRows = try Reliability.epochRows(straight), brokenRows = try Reliability.epochRows(broken)
        XCTAssertEqual(straightRows.count, 3, file: file, line: line)
        XCTAssertEqual(straightRows, brokenRows, file: file, line: line)
        // Control: the interrupted run's own mid-epoch weights differ from the final ones, so the
        // comparison above could fail.
        XCTAssertNotEqual(try Reliability.tensorBits(mid), b, file: file, line: line)
    }

    /// A resume that raised `--epochs`, interrupted, prints a hint that repeats `--epochs`
    /// (config.json keeps the epochs the run started with): run as printed, the run goes on to
    /// the raised epochs instead of stopping with nothing to do.
    func testHintAfterAnInterruptedResumeKeepsItsEpochs() throws {
        let data = tmp.appendingPathComponent("d.csv")
        try Reliability.writeCSV(rows: 256, cols: 64, to: data)
        let run = tmp.appendingPathComponent("raised")
        var r = try Reliability.gen(Reliability.tinyRun("vae", data: data, out: run, epochs: 1, batch: 32))
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try Reliability.gen(["train", "--resume", run.path, "--epochs", "3"], env: ["GEN_TEST_SIGNAL_AT_STEP": "12:INT"])
        XCTAssertEqual(r.status, 130, r.stdout + r.stderr)
        let hint = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("resume with: ") }, r.stdout)
        XCTAssertTrue(hint.hasSuffix("--resume \(run.path) --epochs 3"), String(hint))
        let last = run.appendingPathComponent("checkpoints/step-00000024")
        XCTAssertFalse(FileManager.default.fileExists(atPath: last.path), "stopped early")

        let args = Array(hint.dropFirst("resume with: ".count).split(separator: " ").dropFirst().map(String.init))
        r = try Reliability.gen(args)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertNil(Reliability.loadCheckpoint(last), r.stdout)
    }

    func testGANInterruptedBySIGINTResumesBitIdentical() throws {
        try checkResume(model: "gan", signal: "INT", step: 12, expectedStatus: 130)
    }

    func testVAEInterruptedBySIGTERMResumesBitIdentical() throws {
        try checkResume(model: "vae", signal: "TERM", step: 13, expectedStatus: 143)
    }

    /// A real SIGTERM from outside at an arbitrary moment: exit 143 (or 0 if the run finished
    /// first), and the run then resumes to completion.
    func testExternalSIGTERM() throws {
        let data = tmp.appendingPathComponent("d.csv")
        try Reliability.writeCSV(rows: 64, cols: 64, to: data)
        let run = tmp.appendingPathComponent("term")
        let p = try Reliability.start(Reliability.tinyRun("gan", data: data, out: run, epochs: 100000, batch: 64),
                                      quiet: true)
        // Wait until training is under way (a checkpoint exists), then signal.
        let deadline = Date().addingTimeInterval(20)
        while !FileManager.default.fileExists(atPath: run.appendingPathComponent("checkpoints/step-00000002").path),
              Date() < deadline { usleep(10_000) }
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 143)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("report.html").path),
                      "an interrupted run has its report too")
        let r = try Reliability.gen(["train", "--resume", run.path, "--epochs", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("nothing to do") || r.stdout.contains("resuming"), r.stdout)
    }
}
