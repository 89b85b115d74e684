import Foundation
import Generative
import Linalg
import NN
import XCTest

/// NaN / inf guard: a non-finite loss or gradient stops training naming the step and the
/// layer, without applying the update; `--on-nonfinite skip` skips the batch instead.
final class ReliabilityNonFiniteTests: XCTestCase {
    /// A finite loss with an infinite gradient (built by hand): WGAN critic 4-16-1 whose first
    /// layer ignores input 0 (its weights from input 0 are 0, biases 1) and whose output
    /// weights are 10; real samples have x0 = 3e38. The critic value is finite, but
    /// dLoss/dW0[0, j] = sum over real rows of x0 * (-1/B) * 10 = -3e39, which overflows Float.
    func testInfiniteGradientWithFiniteLossNamesTheLayerAndSkipsTheUpdate() throws {
        var cfg = GANConfig.standard(loss: .wasserstein)
        cfg.dataDim = 4
        cfg.latentDim = 2
        cfg.generatorHidden = [16]
        cfg.discriminatorHidden = [16]
        cfg.criticSteps = 1
        var rng = Xoshiro256(seed: 5)
        let gan = try GAN(config: cfg, rng: &rng)
        let d = try XCTUnwrap(gan.discriminator as? Sequential)
        let first = try XCTUnwrap(d.layers.first as? Dense)
        let last = try XCTUnwrap(d.layers.last as? Dense)
        for j in 0..<first.weight.value.cols { first.weight.value[0, j] = 0 }
        first.bias.value.fill(1)
        last.weight.value.fill(10)
        let before = d.stateDict().map { $0.tensor.withUnsafeBufferPointer { Array($0) } }
        let trainer = try GANTrainer(model: gan, config: cfg, rng: Xoshiro256(seed: 6))
        var real = Matrix(rows: 8, cols: 4)
        for r in 0..<8 { real[r, 0] = 3e38 }
        XCTAssertThrowsError(try trainer.step(real: real)) { error in
            let e = error as? NonFiniteError
            XCTAssertEqual(e?.location, "discriminator 0.weight gradient")
            XCTAssertEqual(e?.step, 1)
            XCTAssertTrue("\(error)".contains("at step 1"), "\(error)")
        }
        let after = d.stateDict().map { $0.tensor.withUnsafeBufferPointer { Array($0) } }
        XCTAssertEqual(before, after, "the non-finite update must not be applied")

        // Control: with the overflow removed (x0 = 1), the same step trains and changes D.
        for r in 0..<8 { real[r, 0] = 1 }
        XCTAssertNoThrow(try trainer.step(real: real))
        XCTAssertNotEqual(d.stateDict().map { $0.tensor.withUnsafeBufferPointer { Array($0) } }, before)
    }

    /// `--on-nonfinite skip`: a diverging run (absurd learning rate) finishes, counts the
    /// skipped batches in metrics.csv's `skipped` column, and warns naming the step.
    func testSkipPolicyCountsSkippedBatches() throws {
        let tmp = try Reliability.temporaryDirectory("nonfinite")
        defer { try? FileManager.default.removeItem(at: tmp) }
        let data = tmp.appendingPathComponent("d.csv")
        try Reliability.writeCSV(rows: 128, cols: 64, to: data)
        let run = tmp.appendingPathComponent("skip")
        let r = try Reliability.gen(Reliability.tinyRun("gan", data: data, out: run, epochs: 2, batch: 32)
                                    + ["--lr", "1e30", "--on-nonfinite", "skip"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("batch skipped") && r.stderr.contains("at step"), r.stderr)
        let csv = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
        let rows = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let col = try XCTUnwrap(rows[0].firstIndex(of: "skipped"))
        let epochSkips = rows.dropFirst().filter { $0[0] == "epoch" }.compactMap { Int($0[col]) }
        XCTAssertEqual(epochSkips.count, 2)
        let warnings = r.stderr.components(separatedBy: "batch skipped").count - 1
        XCTAssertGreaterThan(warnings, 0)
        XCTAssertEqual(epochSkips.reduce(0, +), warnings)

        // The default policy stops with the step, the location and the last good checkpoint.
        let stop = try Reliability.gen(Reliability.tinyRun("gan", data: data, out: tmp.appendingPathComponent("stop"),
                                                           epochs: 2, batch: 32) + ["--lr", "1e30"])
        XCTAssertEqual(stop.status, 1, stop.stderr)
        XCTAssertTrue(stop.stderr.contains("non-finite") && stop.stderr.contains("at step")
                      && stop.stderr.contains("Last good checkpoint"), stop.stderr)
    }
}
