import Datasets
import Foundation
import Generative
import Linalg
import NN
import Training
import XCTest

/// A run interrupted mid-epoch and resumed writes the same metrics.csv rows (every column but
/// the timing ones) and the same final weights as the run left alone, and its elapsed time
/// continues: the running sums travel in the checkpoint's state.json.
final class ResumeFidelityTests: TemporaryDirectoryTestCase {

    /// 100 samples of 16 values in [0, 1] from a fixed formula, and a 40-sample test split.
    func data() -> Dataset {
        func rows(_ n: Int, _ offset: Int) -> Matrix {
            var m = Matrix(rows: n, cols: 16)
            for i in 0..<n { for j in 0..<16 { m[i, j] = Float((sin(Double(i + offset) * 0.37 + Double(j) * 0.11) + 1) / 2) } }
            return m
        }
        return Dataset(train: .floats(rows(100, 0)), test: .floats(rows(40, 1000)), source: "formula", imageShape: (4, 4))
    }

    /// batch 32 over 100 samples: 4 batches an epoch, the last one of 4 samples (weights differ).
    func config(_ model: String) -> RunConfig {
        var gan: GANConfig?, vae: VAEConfig?
        if model.hasPrefix("gan") {
            var g = GANConfig.standard()
            g.latentDim = 4
            g.generatorHidden = [8]
            g.discriminatorHidden = [8]
            if model == "gan-ema" { g.emaDecay = 0.9 }
            gan = g
        } else {
            var v = VAEConfig()
            v.hidden = [8]
            v.latentDim = 2
            vae = v
        }
        return RunConfig(model: gan == nil ? model : "gan", gan: gan, vae: vae, epochs: 3, batchSize: 32, seed: 9, threads: 1, data: nil,
                         limit: nil, sampleEvery: 1000, logEvery: 3, keepCheckpoints: 2)
    }

    /// metrics.csv rows without the samples_per_sec and elapsed_s columns.
    func rows(_ dir: URL) throws -> [[String]] {
        let text = try String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let drop = Set(["samples_per_sec", "elapsed_s"].compactMap { lines[0].firstIndex(of: $0) })
        return lines.map { $0.enumerated().filter { !drop.contains($0.offset) }.map(\.element) }
    }

    func elapsed(_ dir: URL) throws -> [Double] {
        let text = try String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let col = try XCTUnwrap(lines[0].firstIndex(of: "elapsed_s"))
        return lines.dropFirst().map { Double($0[col])! }
    }

    func checkResume(_ model: String, stopAt step: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let straight = tmp.appendingPathComponent("\(model)-straight"), broken = tmp.appendingPathComponent("\(model)-broken")
        XCTAssertEqual(try TrainingLoop(config: config(model), directory: straight, data: data()).run(), .completed)

        let first = try TrainingLoop(config: config(model), directory: broken, data: data())
        var stop = TrainingCallbacks()
        stop.stopRequested = { [unowned first] in first.job.step == step }
        guard case .interrupted(let i) = try first.run(stop) else { return XCTFail("not interrupted", file: file, line: line) }
        XCTAssertEqual([i.epoch, i.batch, i.step], [2, step - 4, step], file: file, line: line)
        let state = try Checkpoint.readState(in: i.checkpoint)
        let saved = try XCTUnwrap(state.running, file: file, line: line)
        XCTAssertEqual(saved.epoch.samples, (step - 4) * 32, "the epoch's samples so far", file: file, line: line)
        let before = try elapsed(broken).last ?? 0

        let resumed = try TrainingLoop.resume(broken, data: data())
        XCTAssertEqual([resumed.epoch, resumed.batchInEpoch], [2, step - 4], file: file, line: line)
        XCTAssertEqual(try resumed.run(), .completed, file: file, line: line)

        let a = try rows(straight), b = try rows(broken)
        XCTAssertEqual(a.filter { $0[0] == "epoch" }.count, 3, file: file, line: line)
        XCTAssertEqual(a, b, "metrics.csv rows apart from timing", file: file, line: line)
        let times = try elapsed(broken)
        XCTAssertEqual(times, times.sorted(), "elapsed_s never goes back", file: file, line: line)
        XCTAssertGreaterThanOrEqual(times.last!, max(before, state.elapsedSeconds ?? -1), file: file, line: line)
        let final = "checkpoints/step-00000012"
        for f in try FileManager.default.contentsOfDirectory(atPath: straight.appendingPathComponent(final).path)
        where f.hasSuffix(".safetensors") {
            XCTAssertEqual(try Data(contentsOf: straight.appendingPathComponent("\(final)/\(f)")),
                           try Data(contentsOf: broken.appendingPathComponent("\(final)/\(f)")), f, file: file, line: line)
        }
    }

    func testGANInterruptedMidEpochLogsTheSameRows() throws {
        try checkResume("gan", stopAt: 6)
    }

    /// With a moving average of G's weights, the average travels in the checkpoint
    /// (generator_ema.safetensors, compared byte for byte with the other files) and differs
    /// from the trained weights.
    func testGANWithGeneratorAverageResumesBitIdentical() throws {
        try checkResume("gan-ema", stopAt: 6)
        let final = tmp.appendingPathComponent("gan-ema-straight/checkpoints/step-00000012")
        let trained = try SafeTensors.read(from: final.appendingPathComponent("generator.safetensors")).tensors
        let averaged = try SafeTensors.read(from: final.appendingPathComponent("generator_ema.safetensors")).tensors
        XCTAssertEqual(Set(trained.keys), Set(averaged.keys))
        XCTAssertNotEqual(trained["0.weight"], averaged["0.weight"])
    }

    func testVAEInterruptedMidEpochLogsTheSameRows() throws {
        try checkResume("vae", stopAt: 7)
    }

    /// Control: a state.json written before the running sums existed still loads (the sums
    /// start empty, as they did), and config.json without clipNorm or threading decodes with nil.
    func testOlderFilesStillDecode() throws {
        let old = #"{"model":"gan","epoch":1,"batchInEpoch":2,"step":6,"noiseRNG":[1,2,3,4],"dataRNG":[5,6,7,8],"optimizerSteps":{"generator":6}}"#
        let state = try JSONDecoder().decode(TrainingState.self, from: Data(old.utf8))
        XCTAssertNil(state.running)
        XCTAssertNil(state.elapsedSeconds)
        XCTAssertNil(state.problem)
        var c = config("gan")
        let json = try c.encoded()
        XCTAssertFalse(String(decoding: json, as: UTF8.self).contains("clipNorm"))
        XCTAssertNil(try JSONDecoder().decode(RunConfig.self, from: json).clipNorm)
        c.clipNorm = 0
        XCTAssertEqual(c.problem, "clipNorm must be a positive number, got 0.0")
        c.clipNorm = .infinity
        XCTAssertNotNil(c.problem)
        c.clipNorm = 1.5
        XCTAssertNil(c.problem)
        // threading (gen's --threading) is optional too, and checked when present.
        XCTAssertFalse(String(decoding: json, as: UTF8.self).contains("threading"))
        XCTAssertNil(try JSONDecoder().decode(RunConfig.self, from: json).threading)
        c.threading = "batch-split"
        XCTAssertNil(c.problem)
        XCTAssertEqual(try JSONDecoder().decode(RunConfig.self, from: c.encoded()).threading, "batch-split")
        c.threading = "rows"
        XCTAssertEqual(c.problem, "threading must be one of split, batch-split, got \"rows\"")
    }
}
