import Datasets
import Foundation
import Generative
import Linalg
import XCTest

/// End-to-end tests of the `gen` executable: each bad input ends in a one-line error naming
/// the file or flag, a non-zero exit code, and nothing half-written.
final class CLITests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The built `gen` in the products directory beside this test bundle (Linux runs the
    /// .xctest itself, so its bundle URL may be the directory or the file).
    static var genBinary: URL {
        let bundle = Bundle(for: CLITests.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("gen") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    typealias Result = GenResult

    @discardableResult
    func gen(_ args: [String], cwd: URL = CLITests.root) throws -> Result {
        try GenRunner.run(args, cwd: cwd)
    }

    var tmp: URL!

    override func setUpWithError() throws {
        tmp = FileManager.default.temporaryDirectory.appendingPathComponent("gen-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: tmp)
    }

    private func assertFails(_ args: [String], mentions needle: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let r = try gen(args)
        XCTAssertNotEqual(r.status, 0, "expected failure for \(args)", file: file, line: line)
        XCTAssertTrue(r.stderr.contains(needle), "stderr should mention \(needle): \(r.stderr)", file: file, line: line)
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr, file: file, line: line)
    }

    func testImpossibleFlags() throws {
        let out = tmp.appendingPathComponent("r").path
        try assertFails(["train", "vae", "--epochs", "0", "--out", out], mentions: "--epochs")
        try assertFails(["train", "vae", "--batch-size", "0", "--out", out], mentions: "--batch-size")
        try assertFails(["train", "gan", "--latent-dim", "0", "--out", out], mentions: "--latent-dim")
        try assertFails(["train", "gan", "--loss", "hinge", "--out", out], mentions: "--loss")
        try assertFails(["train", "gan", "--hidden", "128,x", "--out", out], mentions: "--hidden")
        try assertFails(["train", "gan", "--hidden", "64,,32", "--out", out], mentions: "--hidden")
        try assertFails(["train", "vae", "--hidden", "64,", "--out", out], mentions: "--hidden")
        try assertFails(["eval", tmp.path, "--iwae-k", "1,,64"], mentions: "--iwae-k")
        try assertFails(["eval", tmp.path, "--iwae-k", "10000000000000000"], mentions: "--iwae-k")
        try assertFails(["train", "vae", "--lr", "-1", "--out", out], mentions: "--lr")
        for bad in ["0", "-1", "nan", "inf"] {
            try assertFails(["train", "gan", "--clip-norm=\(bad)", "--out", out], mentions: "--clip-norm must be a positive number")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written for bad flags")
    }

    func testMissingAndCorruptData() throws {
        let out = tmp.appendingPathComponent("r").path
        try assertFails(["train", "vae", "--data", tmp.appendingPathComponent("nope").path, "--out", out],
                        mentions: "nope")
        // A directory with a corrupt (truncated) MNIST image file.
        let bad = tmp.appendingPathComponent("mnist-bad")
        try FileManager.default.createDirectory(at: bad, withIntermediateDirectories: true)
        for f in ["train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"] {
            try FileManager.default.copyItem(at: CLITests.root.appendingPathComponent("data/mnist/\(f)"),
                                             to: bad.appendingPathComponent(f))
        }
        let full = try Data(contentsOf: CLITests.root.appendingPathComponent("data/mnist/train-images-idx3-ubyte.gz"))
        try full.prefix(100_000).write(to: bad.appendingPathComponent("train-images-idx3-ubyte.gz"))
        try assertFails(["train", "vae", "--data", bad.path, "--out", out], mentions: "train-images-idx3-ubyte.gz")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out + "/config.json"))
    }

    /// Wide non-image vectors train and write their grids as one strip per sample (8 per row
    /// would pass libpng's row limit); a run over the layer-size limit is refused before
    /// anything is written; `--out` naming a file says so.
    func testWideVectorDataAndOutFile() throws {
        // 4 samples x 130,000 values in [0, 1] as a float32 .npy (hand-written header).
        let cols = 130_000
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4, \(cols)), }"
        while (10 + header.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var npy = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.count & 255), UInt8(header.count >> 8)])
        npy.append(header.data(using: .ascii)!)
        for i in 0..<(4 * cols) { withUnsafeBytes(of: (Float(i % 7) / 7).bitPattern.littleEndian) { npy.append(contentsOf: $0) } }
        let data = tmp.appendingPathComponent("wide.npy")
        try npy.write(to: data)
        let run = tmp.appendingPathComponent("wide-run")
        let r = try gen(["train", "vae", "--data", data.path, "--epochs", "1", "--hidden", "2", "--latent-dim", "1",
                         "--threads", "1", "--out", run.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: run.appendingPathComponent("samples/epoch-0001.png").path))

        let big = tmp.appendingPathComponent("big-run")
        let r2 = try gen(["train", "vae", "--data", data.path, "--epochs", "1", "--hidden", "2000",
                          "--threads", "1", "--out", big.path])
        XCTAssertNotEqual(r2.status, 0)
        XCTAssertTrue(r2.stderr.contains("wide.npy") && r2.stderr.contains("weights"), r2.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: big.appendingPathComponent("config.json").path))

        let file = tmp.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: file)
        let r3 = try gen(["train", "vae", "--epochs", "1", "--out", file.path])
        XCTAssertNotEqual(r3.status, 0)
        XCTAssertTrue(r3.stderr.contains("exists and is not a directory"), r3.stderr)
    }

    func testUnwritableOut() throws {
        let file = tmp.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        try assertFails(["train", "vae", "--epochs", "1", "--limit", "256", "--out", file.path + "/run"],
                        mentions: "--out")
    }

    /// A tiny real run end to end: run directory contents, then `gen sample`, then resume to
    /// one more epoch, then a checkpoint of another architecture is refused.
    func testTinyRunSampleResumeAndArchitectureMismatch() throws {
        let run = tmp.appendingPathComponent("vae-run")
        var r = try gen(["train", "vae", "--epochs", "1", "--limit", "512", "--batch-size", "128",
                         "--hidden", "32", "--latent-dim", "4", "--threads", "1", "--out", run.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("epoch 1/1"), r.stdout)
        let fm = FileManager.default
        for f in ["config.json", "metrics.csv", "samples/epoch-0001.png", "samples/recon-epoch-0001.png",
                  "checkpoints/step-00000004/model.safetensors",
                  "checkpoints/step-00000004/optimizer.safetensors",
                  "checkpoints/step-00000004/state.json"] {
            XCTAssertTrue(fm.fileExists(atPath: run.appendingPathComponent(f).path), f)
        }
        let csv = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
        XCTAssertTrue(csv.hasPrefix("kind,epoch,step,neg_elbo,reconstruction,kl,test_neg_elbo"), csv)

        let grid = tmp.appendingPathComponent("grid.png")
        r = try gen(["sample", "--checkpoint", run.path, "--count", "16", "--out", grid.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let png = try Data(contentsOf: grid)
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])

        r = try gen(["train", "--resume", run.path, "--epochs", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("epoch 2/2"), r.stdout)
        XCTAssertTrue(fm.fileExists(atPath: run.appendingPathComponent("checkpoints/step-00000008/state.json").path))

        // Tamper with the architecture in the checkpoint's config: loading must name the problem.
        let ckpt = run.appendingPathComponent("checkpoints/step-00000008")
        let cfgURL = ckpt.appendingPathComponent("config.json")
        let cfg = try String(contentsOf: cfgURL, encoding: .utf8)
            .replacingOccurrences(of: "\"latentDim\" : 4", with: "\"latentDim\" : 5")
        try cfg.write(to: cfgURL, atomically: true, encoding: .utf8)
        r = try gen(["sample", "--checkpoint", ckpt.path, "--out", tmp.appendingPathComponent("g2.png").path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("model.safetensors"), r.stderr)
        XCTAssertFalse(fm.fileExists(atPath: tmp.appendingPathComponent("g2.png").path))
    }

    /// `--arch dcgan` and `--arch conv`: a tiny run of each writes its arch into config.json,
    /// samples from its checkpoint (rebuilt from the config) and resumes; mismatched
    /// combinations are refused before anything is written.
    func testConvolutionalArchitectures() throws {
        let out = tmp.appendingPathComponent("bad").path
        try assertFails(["train", "gan", "--arch", "conv", "--out", out], mentions: "--arch")
        try assertFails(["train", "vae", "--arch", "dcgan", "--out", out], mentions: "--arch")
        try assertFails(["train", "gan", "--arch", "dcgan", "--loss", "wasserstein", "--out", out], mentions: "--arch dcgan")
        try assertFails(["train", "gan", "--arch", "dcgan", "--hidden", "8", "--out", out], mentions: "two channel counts")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written for bad flags")
        for (model, arch, hidden) in [("gan", "dcgan", "8,4"), ("vae", "conv", "4,8")] {
            let run = tmp.appendingPathComponent("\(arch)-run")
            var r = try gen(["train", model, "--arch", arch, "--hidden", hidden, "--epochs", "1", "--limit", "96",
                             "--batch-size", "32", "--threads", "1", "--out", run.path])
            XCTAssertEqual(r.status, 0, r.stderr)
            let cfg = try String(contentsOf: run.appendingPathComponent("config.json"), encoding: .utf8)
            XCTAssertTrue(cfg.contains("\"arch\" : \"\(arch)\""), cfg)
            r = try gen(["sample", "--checkpoint", run.path, "--count", "4", "--out", tmp.appendingPathComponent("\(arch).png").path])
            XCTAssertEqual(r.status, 0, r.stderr)
            try assertFails(["train", "--resume", run.path, "--arch", "mlp"], mentions: "--arch")
            r = try gen(["train", "--resume", run.path, "--epochs", "2"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(r.stdout.contains("epoch 2/2"), r.stdout)
        }
    }

    /// --clip-norm is kept in the run's config.json (optional: runs without it write no key) and
    /// cannot change on --resume.
    func testClipNormIsStoredAndFixedOnResume() throws {
        let run = tmp.appendingPathComponent("clip")
        var r = try gen(["train", "gan", "--epochs", "1", "--limit", "256", "--batch-size", "128", "--hidden", "8",
                         "--latent-dim", "2", "--threads", "1", "--clip-norm", "1.5", "--out", run.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("config.json"))) as? [String: Any])
        XCTAssertEqual(json["clipNorm"] as? Double, 1.5)
        r = try gen(["train", "--resume", run.path, "--epochs", "2", "--clip-norm", "2"])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--clip-norm cannot change when resuming"), r.stderr)
    }

    /// Sizes that cannot be allocated, an empty --out and out-of-range counts are refused before
    /// anything is written (they trapped in Matrix allocation, or wrote the run into the current
    /// directory).
    func testOversizedAndEmptyFlags() throws {
        let out = tmp.appendingPathComponent("r").path
        try assertFails(["train", "vae", "--hidden", "100000000", "--out", out], mentions: "exceeds")
        try assertFails(["train", "gan", "--latent-dim", "9999999999", "--out", out], mentions: "exceeds")
        try assertFails(["train", "gan", "--hidden", "3000000", "--out", out], mentions: "--hidden")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written for oversized flags")
        let cwd = tmp.appendingPathComponent("cwd")
        try FileManager.default.createDirectory(at: cwd, withIntermediateDirectories: true)
        let r = try gen(["train", "vae", "--out", "", "--data", "/nonexistent"], cwd: cwd)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("--out"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: cwd.path), [])
        let grid = tmp.appendingPathComponent("g.png").path
        try assertFails(["sample", "--checkpoint", tmp.path, "--count", "100000000", "--out", grid],
                        mentions: "--count")
        try assertFails(["eval", tmp.path, "--count", "1000000000"], mentions: "--count")
        try assertFails(["bench", "vae", "--batch-size", "60001"], mentions: "--batch-size")
        // A missing --data directory is named as the flag's, exit 66, as `gen train` does.
        let bench = try gen(["bench", "vae", "--data", tmp.appendingPathComponent("nope").path])
        XCTAssertEqual(bench.status, 66)
        XCTAssertTrue(bench.stderr.contains("--data"), bench.stderr)
        try assertFails(["train", "classifier", "--hidden", "100000000", "--out", out], mentions: "--hidden")
        for command in [["train", "vae", "--out", out], ["eval", tmp.path], ["bench", "vae"]] {
            try assertFails(command + ["--threads", "9999999999"], mentions: "--threads")
        }
    }

    /// --eval-every without the reference classifier or with data that has no MNIST test set
    /// fails before the run directory is created. (The shipped classifier is now found from any
    /// directory, so the missing one is named with --classifier instead of another working directory.)
    func testEvalEveryPrerequisitesCheckedFirst() throws {
        let out = tmp.appendingPathComponent("r")
        let mnist = CLITests.root.appendingPathComponent("data/mnist").path
        let missing = tmp.appendingPathComponent("mnist-classifier.safetensors").path
        var r = try gen(["train", "vae", "--eval-every", "1", "--data", mnist, "--classifier", missing,
                         "--out", out.path], cwd: tmp)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("mnist-classifier.safetensors: not found"), r.stderr)
        // A classifier file that does not parse: exit 65 naming it, and no run directory.
        let garbage = tmp.appendingPathComponent("garbage.safetensors")
        try Data("not a safetensors file".utf8).write(to: garbage)
        r = try gen(["train", "gan", "--eval-every", "1", "--classifier", garbage.path, "--out", out.path], cwd: tmp)
        XCTAssertEqual(r.status, 65)
        XCTAssertTrue(r.stderr.contains("garbage.safetensors"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing written")
        // A valid classifier of another input width (100, not MNIST's 784): also before the run
        // directory exists.
        let narrow = tmp.appendingPathComponent("narrow.safetensors")
        var rng = Xoshiro256(seed: 1)
        try MNISTClassifier(inputSize: 100, hidden: [8], rng: &rng).save(to: narrow, metadata: [:])
        r = try gen(["train", "vae", "--eval-every", "1", "--classifier", narrow.path, "--out", out.path], cwd: tmp)
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("narrow.safetensors: expects 100 inputs"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing written")
        // A directory in place of the file.
        r = try gen(["train", "gan", "--target-fid", "50", "--classifier", tmp.path, "--out", out.path], cwd: tmp)
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("--classifier \(tmp.path): is a directory"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing written")
        let csv = tmp.appendingPathComponent("d.csv")
        try "0.1,0.2\n0.3,0.4\n".write(to: csv, atomically: true, encoding: .utf8)
        r = try gen(["train", "vae", "--target-fid", "50", "--data", csv.path, "--out", out.path])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("need MNIST data"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing written")
    }

    /// The classifier trains with a batch size far above its data set (its label buffer was
    /// allocated at --batch-size and aborted), on a tiny IDX data set written here.
    func testClassifierBatchLargerThanData() throws {
        let dir = tmp.appendingPathComponent("idx")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func be32(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8((v >> $0) & 0xFF) } }
        for (split, n) in [("train", 6), ("t10k", 3)] {
            let images = be32(0x803) + be32(n) + be32(2) + be32(2) + (0..<(4 * n)).map { UInt8($0 * 9 % 256) }
            let labels = be32(0x801) + be32(n) + (0..<n).map { UInt8($0 % 10) }
            try Data(images).write(to: dir.appendingPathComponent("\(split)-images-idx3-ubyte"))
            try Data(labels).write(to: dir.appendingPathComponent("\(split)-labels-idx1-ubyte"))
        }
        let out = tmp.appendingPathComponent("c.safetensors")
        let r = try gen(["train", "classifier", "--data", dir.path, "--epochs", "1", "--hidden", "4",
                         "--batch-size", "1000000000000", "--threads", "1", "--out", out.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.path))
        // A diverging classifier run stops at the first non-finite loss and writes nothing.
        let bad = tmp.appendingPathComponent("bad.safetensors")
        let d = try gen(["train", "classifier", "--data", dir.path, "--epochs", "5", "--hidden", "4",
                         "--lr", "1e38", "--threads", "1", "--out", bad.path])
        XCTAssertNotEqual(d.status, 0, d.stdout)
        XCTAssertTrue(d.stderr.contains("non-finite"), d.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: bad.path))
    }

    /// A float data file is checked value by value: NaN and infinity (which Swift's min/max
    /// skip or absorb) are refused naming their row and column. Values outside [0, 1] are
    /// scaled per column to [0, 1] with a note, and `gen sample --out X.npy` maps samples back
    /// to each column's range; whole numbers 0-255 are still read as bytes.
    func testFloatDataNaNAndRange() throws {
        let out = tmp.appendingPathComponent("r").path
        let nan = tmp.appendingPathComponent("nan.csv")
        try "0.1,0.2\n0.3,nan\n".write(to: nan, atomically: true, encoding: .utf8)
        try assertFails(["train", "vae", "--data", nan.path, "--out", out], mentions: "NaN at row 2, column 2")
        let inf = tmp.appendingPathComponent("inf.csv")
        try "0.1,-inf\n0.3,2\n".write(to: inf, atomically: true, encoding: .utf8)
        try assertFails(["train", "vae", "--data", inf.path, "--out", out], mentions: "-inf at row 1, column 2")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written for bad data")
        let over = tmp.appendingPathComponent("over.csv")
        try "0.1,0.2\n0.3,1.01\n0.2,-3\n".write(to: over, atomically: true, encoding: .utf8)
        // Bernoulli means lie in [0, 1], so mapped back they lie in each column's range.
        let trained = try gen(["train", "vae", "--data", over.path, "--epochs", "1", "--hidden", "4", "--likelihood", "bernoulli",
                               "--latent-dim", "2", "--threads", "1", "--out", out])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stdout.contains("scaled to [0, 1] per column"), trained.stdout)
        let npy = tmp.appendingPathComponent("s.npy")
        let sampled = try gen(["sample", "--checkpoint", out, "--count", "50", "--out", npy.path])
        XCTAssertEqual(sampled.status, 0, sampled.stderr)
        let values = try NPY.readMatrix(contentsOf: npy)
        for r in 0..<values.rows {
            XCTAssertTrue((0.1...0.3).contains(values[r, 0]) && (-3...1.01).contains(values[r, 1]),
                          "row \(r) in each column's data range: \(values[r, 0]), \(values[r, 1])")
        }
        let bytes = tmp.appendingPathComponent("bytes.csv")
        try "0,255\n17,3\n".write(to: bytes, atomically: true, encoding: .utf8)
        let r = try gen(["train", "vae", "--data", bytes.path, "--epochs", "1", "--hidden", "4",
                         "--latent-dim", "2", "--threads", "1", "--out", out + "b"])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// A state.json without an optimiser's step count is refused (it used to default to 0,
    /// silently restarting Adam's bias correction on resume).
    func testResumeRefusesMissingOptimizerSteps() throws {
        let data = tmp.appendingPathComponent("d.csv")
        try (0..<8).map { i in "\(Double(i) / 8),\(Double(7 - i) / 8)" }.joined(separator: "\n")
            .write(to: data, atomically: true, encoding: .utf8)
        for model in ["vae", "gan"] {
            let run = tmp.appendingPathComponent("run-\(model)")
            var r = try gen(["train", model, "--data", data.path, "--epochs", "1", "--batch-size", "4",
                             "--hidden", "4", "--latent-dim", "2", "--threads", "1", "--out", run.path])
            XCTAssertEqual(r.status, 0, r.stderr)
            let state = run.appendingPathComponent("checkpoints/step-00000002/state.json")
            var json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: state)) as? [String: Any])
            var steps = try XCTUnwrap(json["optimizerSteps"] as? [String: Int])
            let dropped = model == "vae" ? "vae" : "discriminator"
            XCTAssertNotNil(steps.removeValue(forKey: dropped))
            json["optimizerSteps"] = steps
            try JSONSerialization.data(withJSONObject: json).write(to: state)
            r = try gen(["train", "--resume", run.path, "--epochs", "2"])
            XCTAssertNotEqual(r.status, 0, r.stdout)
            XCTAssertTrue(r.stderr.contains("state.json: optimizerSteps has no \"\(dropped)\""), r.stderr)
        }
    }

    /// A diverging run (absurd learning rate) stops at the first non-finite loss, names the
    /// step, exits non-zero and keeps the last good checkpoint.
    func testNonFiniteLossStops() throws {
        let run = tmp.appendingPathComponent("gan-nan")
        let r = try gen(["train", "gan", "--epochs", "3", "--limit", "256", "--batch-size", "128",
                         "--hidden", "16", "--lr", "1e30", "--threads", "1", "--out", run.path])
        XCTAssertNotEqual(r.status, 0, r.stdout)
        XCTAssertTrue(r.stderr.contains("at step"), r.stderr)
        XCTAssertTrue(r.stderr.contains("non-finite"), r.stderr)
        // It stopped before any checkpoint: no resume is suggested, and the same --out can
        // start a new run.
        XCTAssertFalse(r.stderr.contains("resume with"), r.stderr)
        XCTAssertTrue(r.stderr.contains("no checkpoint was written yet"), r.stderr)
        let again = try gen(["train", "gan", "--epochs", "1", "--limit", "256", "--batch-size", "128",
                             "--hidden", "16", "--threads", "1", "--out", run.path])
        XCTAssertEqual(again.status, 0, again.stderr)
        // Once it has a checkpoint, a fresh run there is refused.
        let third = try gen(["train", "gan", "--epochs", "1", "--limit", "256", "--out", run.path])
        XCTAssertNotEqual(third.status, 0)
        XCTAssertTrue(third.stderr.contains("already holds a run"), third.stderr)
    }
}
