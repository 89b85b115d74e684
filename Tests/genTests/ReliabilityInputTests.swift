import Foundation
import XCTest

/// Hand-edited or corrupt run files (config.json, state.json, a checkpoint's config.json):
/// each ends in exit code 65 (bad data; was 1 before the README's exit-code convention) and one error line naming the file and the problem, never a trap
/// or an allocation sized by the file's claim.
final class ReliabilityInputTests: XCTestCase {
    func testCorruptRunFilesGiveErrorsNamingTheFile() throws {
        let tmp = try Reliability.temporaryDirectory("input")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let data = tmp.appendingPathComponent("d.csv")
        try Reliability.writeCSV(rows: 64, cols: 64, to: data)
        let run = tmp.appendingPathComponent("run")
        var r = try Reliability.gen(Reliability.tinyRun("gan", data: data, out: run, epochs: 1, batch: 32))
        XCTAssertEqual(r.status, 0, r.stderr)
        let ckpt = run.appendingPathComponent("checkpoints/step-00000002")
        let config = run.appendingPathComponent("config.json")
        let state = ckpt.appendingPathComponent("state.json")
        let original = try String(contentsOf: config, encoding: .utf8)
        let originalState = try String(contentsOf: state, encoding: .utf8)

        func expectFailure(_ args: [String], _ file: URL, _ problem: String, line: UInt = #line) throws {
            let r = try Reliability.gen(args)
            XCTAssertEqual(r.status, 65, r.stdout + r.stderr, line: line)
            XCTAssertTrue(r.stderr.contains(file.path) && r.stderr.contains(problem), r.stderr, line: line)
            XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr, line: line)
        }
        let resume = ["train", "--resume", run.path, "--epochs", "2"]

        try original.replacingOccurrences(of: "\"batchSize\" : 32", with: "\"batchSize\" : 0")
            .write(to: config, atomically: true, encoding: .utf8)
        try expectFailure(resume, config, "batchSize must be at least 1, got 0")
        try "{\"model\": \"gan\"".write(to: config, atomically: true, encoding: .utf8)
        try expectFailure(resume, config, "malformed run configuration")
        try original.write(to: config, atomically: true, encoding: .utf8)

        try originalState.replacingOccurrences(of: "\"batchInEpoch\" : 0", with: "\"batchInEpoch\" : 99")
            .write(to: state, atomically: true, encoding: .utf8)
        try expectFailure(resume, state, "batch 99 is past the 2 batches of an epoch")
        try originalState.replacingOccurrences(of: "\"step\" : 2", with: "\"step\" : -2")
            .write(to: state, atomically: true, encoding: .utf8)
        try expectFailure(resume, state, "step -2 < 0")
        try originalState.replacingOccurrences(of: "\"noiseRNG\"", with: "\"noise\"")
            .write(to: state, atomically: true, encoding: .utf8)
        try expectFailure(resume, state, "missing field noiseRNG")
        try originalState.write(to: state, atomically: true, encoding: .utf8)

        // A checkpoint whose config claims a 10^12-wide latent layer: refused before allocating.
        let ckptConfig = ckpt.appendingPathComponent("config.json")
        let text = try String(contentsOf: ckptConfig, encoding: .utf8)
        try text.replacingOccurrences(of: "\"latentDim\" : 4", with: "\"latentDim\" : 1000000000000")
            .write(to: ckptConfig, atomically: true, encoding: .utf8)
        try expectFailure(["sample", "--checkpoint", ckpt.path, "--out", tmp.appendingPathComponent("g.png").path],
                          ckptConfig, "layer size 1000000000000 exceeds")

        // Restored files resume normally (the edits above changed nothing else).
        try text.write(to: ckptConfig, atomically: true, encoding: .utf8)
        r = try Reliability.gen(resume)
        XCTAssertEqual(r.status, 0, r.stderr)
    }
}
