import Foundation
import Generative
import XCTest

/// SIGKILL at random moments while `gen train` writes a checkpoint every step: every
/// checkpoint directory left on disk must load completely, metrics.csv must be whole rows,
/// and the run must resume from what is there.
final class ReliabilityKillTests: XCTestCase {
    func testSIGKILLDuringCheckpointWrites() throws {
        let tmp = try Reliability.temporaryDirectory("kill")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let data = tmp.appendingPathComponent("d.csv")
        try Reliability.writeCSV(rows: 64, cols: 64, to: data)
        let run = tmp.appendingPathComponent("run")
        let checkpoints = run.appendingPathComponent("checkpoints")
        // One batch per epoch, so a checkpoint (3 safetensors files, config.json, state.json,
        // directory rename) and metrics.csv are written after every step.
        let first = Reliability.tinyRun("gan", data: data, out: run, epochs: 1_000_000, batch: 64)
            + ["--keep-checkpoints", "2"]
        var rng = SystemRandomNumberGenerator()
        var checked = 0, killedMidWrite = 0
        let trials = 20
        for trial in 0..<trials {
            let before = Set(Checkpoint.listNames(checkpoints))
            let args = trial == 0 ? first : ["train", "--resume", run.path]
            let p = try Reliability.start(args, quiet: true)
            // Wait for a checkpoint newer than the last trial's, then kill after a random delay
            // of up to 30 ms (a few checkpoint writes at this size).
            let deadline = Date().addingTimeInterval(20)
            while Set(Checkpoint.listNames(checkpoints)).subtracting(before).isEmpty && Date() < deadline {
                usleep(2_000)
            }
            usleep(UInt32.random(in: 0...30_000, using: &rng))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .uncaughtSignal, "trial \(trial): the run ended before the kill")
            let names = try FileManager.default.contentsOfDirectory(atPath: checkpoints.path)
            if names.contains(where: { $0.hasPrefix(".tmp-") }) { killedMidWrite += 1 }
            for dir in Checkpoint.listNames(checkpoints) {
                if let problem = Reliability.loadCheckpoint(checkpoints.appendingPathComponent(dir)) {
                    XCTFail("trial \(trial): \(dir) does not load: \(problem)")
                }
                checked += 1
            }
            let csv = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
            let lines = csv.split(separator: "\n")
            let width = lines.first?.split(separator: ",", omittingEmptySubsequences: false).count
            for l in lines where l.split(separator: ",", omittingEmptySubsequences: false).count != width {
                XCTFail("trial \(trial): metrics.csv has a partial row: \(l)")
            }
        }
        XCTAssertGreaterThanOrEqual(checked, trials)
        // Informational: how many kills landed inside a checkpoint write (temp dir left behind).
        print("kill trials: \(trials), checkpoints checked: \(checked), 0 unreadable, kills inside a checkpoint write: \(killedMidWrite)")
    }
}

extension Checkpoint {
    /// Names of the complete checkpoint directories (`step-N`), oldest first.
    static func listNames(_ dir: URL) -> [String] { list(in: dir).map(\.lastPathComponent) }
}
