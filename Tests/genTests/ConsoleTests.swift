import Foundation
import XCTest

/// What `gen` says besides errors: `--version`, the defaults in `--help`, and the one-time
/// warning when a loss explodes.
final class ConsoleTests: XCTestCase {
    /// The version printed is the one string in Sources/gen/Version.swift.
    func testVersionComesFromVersionFile() throws {
        let source = try String(contentsOf: CLITests.root.appendingPathComponent("Sources/gen/Version.swift"), encoding: .utf8)
        let quoted = try XCTUnwrap(source.split(separator: "\"").dropFirst().first)
        let r = try GenRunner.run(["--version"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), String(quoted))
    }

    /// Every `gen train` option with a default says so, with the value `makeConfig` uses.
    func testTrainHelpShowsDefaults() throws {
        let r = try GenRunner.run(["train", "--help"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let help = r.stdout.replacingOccurrences(of: "\n", with: " ")
            .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        let expected = [("--batch-size", "Default: 128 (dcgan 64)."), ("--seed", "Default: 1."), ("--log-every", "Default: 100."),
                        ("--sample-every", "Default: 1."), ("--keep-checkpoints", "Default: 3."),
                        ("--epochs", "Default: gan 30 (dcgan 14), vae 10, classifier 15."), ("--lr-schedule", "Default: constant."), ("--ema-decay", "Default: off (dcgan and non-image data 0.999)."),
                        ("--beta1", "Default: gan 0.5 (DCGAN; 0 with the wasserstein loss, as WGAN-GP), vae 0.9."),
                        ("--beta2", "Default: 0.999 (gan with the wasserstein loss: 0.9, as WGAN-GP)."), ("--on-nonfinite", "default: stop"),
                        ("--limit", "Default: all."), ("--eval-every", "Default: off.")]
        for (flag, text) in expected {
            let start = try XCTUnwrap(help.range(of: flag + " <"), "\(flag) in help")
            let rest = help[start.upperBound...]
            let next = rest.range(of: " --")?.lowerBound ?? rest.endIndex
            XCTAssertTrue(rest[..<next].contains(text), "\(flag) should show \(text): \(rest[..<next])")
        }
    }

    func testSampleAndEvalHelpShowDefaults() throws {
        let sample = try GenRunner.run(["sample", "--help"]).stdout
        XCTAssertTrue(sample.contains("Default: 64 (class grid: 10)") && sample.contains("(default: grid.png)"), sample)
        let eval = try GenRunner.run(["eval", "--help"]).stdout
        XCTAssertTrue(eval.contains("(default: 10000)") && eval.contains("(default: 1,64)") && eval.contains("(default: 2000)"), eval)
    }

    /// A learning rate of 1e6 makes the GAN's losses jump by >15 orders of magnitude after one
    /// step: one warning naming the loss and the step, and the run still completes.
    func testExplodingLossWarnsOnce() throws {
        let tmp = try Reliability.temporaryDirectory("explode")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let r = try GenRunner.run(["train", "gan", "--lr", "1e6", "--epochs", "2", "--limit", "1280", "--hidden", "16",
                                   "--threads", "1", "--out", tmp.appendingPathComponent("run").path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let warnings = r.stderr.split(separator: "\n").filter { $0.hasPrefix("gen: warning: ") }
        XCTAssertEqual(warnings.count, 1, r.stderr)
        XCTAssertTrue(warnings.first?.contains("at step 2") == true && warnings.first?.contains("diverging") == true,
                      r.stderr)
        // The default learning rate on the same data stays quiet.
        let ok = try GenRunner.run(["train", "gan", "--epochs", "2", "--limit", "1280", "--hidden", "16",
                                    "--threads", "1", "--out", tmp.appendingPathComponent("ok").path])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertFalse(ok.stderr.contains("warning"), ok.stderr)
    }
}
