import Foundation
import XCTest

/// Label inputs and conditional models at the command line: every bad input is one error line
/// naming the file (or flag) and row, the documented exit code, and no run directory.
extension ExitCodeTests {
    /// `np.save(path, np.array(values))` of an int64 array, written byte by byte.
    private func int64NPY(_ values: [Int64], _ name: String) throws -> URL {
        var h = Array("{'descr': '<i8', 'fortran_order': False, 'shape': (\(values.count),), }".utf8)
        while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }
        h.append(0x0A)
        let body = values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let url = tmp.appendingPathComponent(name)
        try Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(h.count), 0] + h + body).write(to: url)
        return url
    }

    private func data(rows: Int) throws -> URL {
        let url = tmp.appendingPathComponent("x.csv")
        try Reliability.writeCSV(rows: rows, cols: 4, to: url)
        return url
    }

    func testConditionalOnUnlabelledData() throws {
        try expect(["train", "gan", "--conditional", "--data", try data(rows: 6).path, "--out", out], exit: 65,
                   mentions: ["--conditional", "x.csv has no labels", "--labels"])
    }

    func testLabelFileCountNegativeFractionAndUndeclaredClass() throws {
        let x = try data(rows: 4).path
        let cases: [([Int64], [String], [String])] = [
            ([0, 1, 1], [], ["short.npy", "3 labels for 4 samples"]),
            ([0, 1, -2, 1], [], ["row 3", "label -2 is negative"]),
            ([0, 1, 2, 3], ["--classes", "3"], ["row 4", "label 3 is not one of the 3 classes"]),
        ]
        for (i, (values, extra, needles)) in cases.enumerated() {
            let y = try int64NPY(values, i == 0 ? "short.npy" : "y\(i).npy")
            try expect(["train", "vae", "--conditional", "--data", x, "--labels", y.path, "--out", out] + extra,
                       exit: 65, mentions: [y.lastPathComponent] + needles)
        }
        let frac = tmp.appendingPathComponent("frac.csv")
        try "0.5,0.1\n1.5,0.2\n".write(to: frac, atomically: true, encoding: .utf8)
        try expect(["train", "gan", "--conditional", "--data", frac.path, "--label-column", "1", "--out", out], exit: 65,
                   mentions: ["frac.csv", "column 1, row 1: label 0.5 is not a whole number"])
    }

    func testLabelFlagsThatDoNotFit() throws {
        try expect(["train", "gan", "--labels", tmp.appendingPathComponent("nope.npy").path, "--data",
                    try data(rows: 4).path, "--out", out], exit: 66, mentions: ["--labels", "nope.npy"])
        try expect(["train", "gan", "--label-column", "1", "--out", out], exit: 64, mentions: ["--label-column", "--data"])
        try expect(["train", "gan", "--label-column", "0", "--data", "x.csv", "--out", out], exit: 64,
                   mentions: ["--label-column is 1-based"])
        try expect(["train", "gan", "--classes", "1", "--out", out], exit: 64, mentions: ["--classes must be in 2...1000, got 1"])
    }

    /// A labelled CSV trains a conditional model whose checkpoint records its classes; sampling
    /// it needs a label (or --class-grid), and an unconditional model refuses one.
    func testConditionalRunRecordsClassesAndSamplingNeedsALabel() throws {
        var text = ""
        for i in 0..<24 { text += "\(i % 3)," + (0..<4).map { String(format: "%.2f", Double((i * 7 + $0 * 3) % 10) / 10) }.joined(separator: ",") + "\n" }
        let csv = tmp.appendingPathComponent("labelled.csv")
        try text.write(to: csv, atomically: true, encoding: .utf8)
        let run = tmp.appendingPathComponent("cond")
        let r = try GenRunner.run(["train", "gan", "--conditional", "--data", csv.path, "--label-column", "1", "--epochs", "1",
                                   "--batch-size", "8", "--hidden", "8", "--latent-dim", "2", "--threads", "1", "--out", run.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("conditional on 3 classes"), r.stdout)
        let config = try String(contentsOf: run.appendingPathComponent("config.json"), encoding: .utf8)
        XCTAssertTrue(config.contains("\"numClasses\" : 3"), config)
        try expect(["sample", "--checkpoint", run.path, "--out", out + ".png"], exit: 64, mentions: ["conditional gan of 3 classes", "--label"])
        try expect(["sample", "--checkpoint", run.path, "--label", "3", "--out", out + ".png"], exit: 64, mentions: ["--label 3", "classes 0-2"])
        let grid = tmp.appendingPathComponent("seven.png")
        let ok = try GenRunner.run(["sample", "--checkpoint", run.path, "--label", "2", "--count", "4", "--out", grid.path])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: grid.path))
        // .npy: the values (4 x 4 in [0, 1]), read back by the library's NPY reader's format.
        let values = tmp.appendingPathComponent("twos.npy")
        let npy = try GenRunner.run(["sample", "--checkpoint", run.path, "--label", "2", "--count", "4", "--out", values.path])
        XCTAssertEqual(npy.status, 0, npy.stderr)
        let bytes = try Data(contentsOf: values)
        XCTAssertTrue(String(decoding: bytes.prefix(128), as: UTF8.self).contains("'shape': (4, 4)"))
        XCTAssertEqual(bytes.count - (10 + Int(bytes[8]) + Int(bytes[9]) << 8), 4 * 4 * 4, "the header, then 16 float32 values")
        let first = bytes.subdata(in: (bytes.count - 64)..<(bytes.count - 60)).withUnsafeBytes { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))) }
        XCTAssertTrue((0...1).contains(first), "values in [0, 1], got \(first)")
        try expect(["sample", "--checkpoint", run.path, "--label", "2", "--out", out + ".jpg"], exit: 64,
                   mentions: ["--out must end in .png or .npy"])
        let plain = tmp.appendingPathComponent("plain")
        let p = try GenRunner.run(["train", "gan", "--data", csv.path, "--label-column", "1", "--epochs", "1", "--batch-size", "8",
                                   "--hidden", "8", "--latent-dim", "2", "--threads", "1", "--out", plain.path])
        XCTAssertEqual(p.status, 0, p.stderr)
        try expect(["sample", "--checkpoint", plain.path, "--label", "1", "--out", out + ".png"], exit: 64,
                   mentions: ["unconditional gan", "--conditional"])
    }
}

extension ExitCodeTests {
    /// `gen eval` of a model of 2-D data (a ring of radius 2, scaled for training) reports the
    /// MMD against its training data and saves samples in the data's units, instead of failing
    /// on the image classifier.
    func testEvalOfNonImageDataReportsMMD() throws {
        let ring = tmp.appendingPathComponent("ring.csv")
        try (0..<64).map { i -> String in
            let a = Double(i % 8) * Double.pi / 4
            return String(format: "%.4f,%.4f", 2 * cos(a), 2 * sin(a))
        }.joined(separator: "\n").write(to: ring, atomically: true, encoding: .utf8)
        let run = tmp.appendingPathComponent("ringrun")
        let t = try GenRunner.run(["train", "gan", "--data", ring.path, "--epochs", "2", "--hidden", "8",
                                   "--batch-size", "16", "--threads", "1", "--out", run.path])
        XCTAssertEqual(t.status, 0, t.stderr)
        // Real-valued non-image data: the GAN's own defaults where no flag is given.
        XCTAssertTrue(t.stdout.contains("a GAN with the minimax loss, latent 2, hidden 8, G's moving average 0.999, 2 epochs"), t.stdout)
        let saved = tmp.appendingPathComponent("s.npy")
        let e = try GenRunner.run(["eval", run.path, "--save-samples", saved.path])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stdout.contains("MMD² (Gaussian kernel) vs training data"), e.stdout)
        XCTAssertFalse(e.stdout.contains("FID"), e.stdout)
        let json = try String(contentsOf: run.appendingPathComponent("eval.json"), encoding: .utf8)
        XCTAssertTrue(json.contains("\"mmd2\""), json)
        XCTAssertTrue(FileManager.default.fileExists(atPath: saved.path))
        // 2-D data: scatter plots (320 x 320 PNGs, IHDR width at bytes 16-19), not 1-pixel strips.
        for png in [run.appendingPathComponent("samples/epoch-0002.png"), run.appendingPathComponent("eval/scatter.png")] {
            let bytes = try Data(contentsOf: png)
            XCTAssertEqual(Array(bytes[16..<24]), [0, 0, 1, 64, 0, 0, 1, 64], png.path)
        }
    }
}

extension ExitCodeTests {
    /// Real-valued non-image data gets a Gaussian VAE decoder, with a note and in config.json;
    /// the conv VAE refuses one.
    func testVAEOnRealValuedDataIsGaussian() throws {
        let pts = tmp.appendingPathComponent("pts.csv")
        try (0..<32).map { String(format: "%.3f,%.3f", cos(Double($0)) * 2, sin(Double($0))) }
            .joined(separator: "\n").write(to: pts, atomically: true, encoding: .utf8)
        let run = tmp.appendingPathComponent("gv")
        let r = try GenRunner.run(["train", "vae", "--data", pts.path, "--epochs", "1", "--hidden", "8", "--latent-dim", "2",
                                   "--threads", "1", "--out", run.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("a VAE with a Gaussian decoder") && r.stdout.contains("KL warm-up over"), r.stdout)
        let config = try String(contentsOf: run.appendingPathComponent("config.json"), encoding: .utf8)
        XCTAssertTrue(config.contains("\"likelihood\" : \"gaussian\""), config)
        XCTAssertTrue(config.contains("\"klWarmupSteps\" : 1"), "40 % of 1 epoch x 2 batches: \(config)")
        try expect(["train", "vae", "--arch", "conv", "--likelihood", "gaussian", "--out", out], exit: 64,
                   mentions: ["Bernoulli decoder"])
        try expect(["train", "gan", "--likelihood", "gaussian", "--out", out], exit: 64, mentions: ["--likelihood applies to vae only"])
    }
}

extension ExitCodeTests {
    /// A relative --data (and --labels) is stored absolute in config.json, so resuming or
    /// evaluating from another directory reads the same file.
    func testRelativeDataPathIsStoredAbsolute() throws {
        let csv = tmp.appendingPathComponent("rel.csv")
        try Reliability.writeCSV(rows: 8, cols: 4, to: csv)
        let run = tmp.appendingPathComponent("relrun")
        let r = try GenRunner.run(["train", "vae", "--data", "rel.csv", "--epochs", "1", "--hidden", "4", "--latent-dim", "2",
                                   "--threads", "1", "--out", run.path], cwd: tmp)
        XCTAssertEqual(r.status, 0, r.stderr)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["data"] as? String, csv.standardizedFileURL.path)
        let resumed = try GenRunner.run(["train", "--resume", run.path, "--epochs", "2"], cwd: URL(fileURLWithPath: "/"))
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
    }
}

extension ExitCodeTests {
    /// Review findings: a class count past the cap is refused before anything is written (flag:
    /// 64; a stray label: 65); --eval-every of a conditional VAE works; `gen eval` of a
    /// conditional VAE whose classes are not MNIST's skips what needs MNIST's labels.
    func testClassCapAndConditionalEvaluation() throws {
        try expect(["train", "gan", "--classes", "5000", "--out", out], exit: 64, mentions: ["--classes must be in 2...1000"])
        let x = tmp.appendingPathComponent("x.csv")
        try Reliability.writeCSV(rows: 4, cols: 3, to: x)
        let y = tmp.appendingPathComponent("stray.csv")
        try "0,0.1,0.2\n1,0.3,0.4\n100000,0.5,0.6\n".write(to: y, atomically: true, encoding: .utf8)
        try expect(["train", "gan", "--conditional", "--data", y.path, "--label-column", "1", "--out", out], exit: 65,
                   mentions: ["labels up to 100000", "more than 1000 classes"])
        let run = tmp.appendingPathComponent("cvae-eval")
        let t = try GenRunner.run(["train", "vae", "--conditional", "--limit", "256", "--epochs", "1", "--eval-every", "1",
                                   "--hidden", "16", "--threads", "1", "--out", run.path])
        XCTAssertEqual(t.status, 0, t.stderr)
        XCTAssertTrue(t.stdout.contains("quality: FID"), t.stdout)
        // 2 classes of 784-value "images": gen eval keeps FID, skips label scores and the bound.
        var rows = ""
        for i in 0..<64 { rows += "\(i % 2)," + (0..<784).map { j in ((i + j) % 7 == 0) ? "1" : "0" }.joined(separator: ",") + "\n" }
        let two = tmp.appendingPathComponent("two.csv")
        try rows.write(to: two, atomically: true, encoding: .utf8)
        let run2 = tmp.appendingPathComponent("two-run")
        let t2 = try GenRunner.run(["train", "vae", "--conditional", "--data", two.path, "--label-column", "1", "--epochs", "1",
                                    "--hidden", "16", "--threads", "1", "--out", run2.path])
        XCTAssertEqual(t2.status, 0, t2.stderr)
        let e = try GenRunner.run(["eval", run2.path, "--count", "100", "--no-memorisation"])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(e.stdout.contains("FID vs 10,000") && !e.stdout.contains("label accuracy"), e.stdout)
    }
}

extension ExitCodeTests {
    /// Non-image data of other widths: per-epoch samples and gen eval draw a histogram per
    /// dimension (3 panels of 128 x 72 pixels in a row), not 1-pixel strips.
    func testHistogramsForOtherNonImageData() throws {
        let csv = tmp.appendingPathComponent("three.csv")
        try Reliability.writeCSV(rows: 40, cols: 3, to: csv)
        let run = tmp.appendingPathComponent("three")
        let t = try GenRunner.run(["train", "gan", "--data", csv.path, "--epochs", "1", "--hidden", "8", "--threads", "1",
                                   "--out", run.path])
        XCTAssertEqual(t.status, 0, t.stderr)
        let e = try GenRunner.run(["eval", run.path])
        XCTAssertEqual(e.status, 0, e.stderr)
        for png in [run.appendingPathComponent("samples/epoch-0001.png"), run.appendingPathComponent("eval/histograms.png")] {
            let bytes = try Data(contentsOf: png)
            XCTAssertEqual(Array(bytes[16..<24]), [0, 0, 1, 128, 0, 0, 0, 72], png.path)   // IHDR: 384 x 72
        }
    }
}

extension ExitCodeTests {
    /// --gradient-penalty sets WGAN-GP's λ (recorded in config.json) and is refused elsewhere.
    func testGradientPenaltyFlag() throws {
        try expect(["train", "gan", "--gradient-penalty", "0.5", "--out", out], exit: 64,
                   mentions: ["--gradient-penalty applies to --loss wasserstein only"])
        try expect(["train", "gan", "--loss", "wasserstein", "--gradient-penalty", "-1", "--out", out], exit: 64,
                   mentions: ["--gradient-penalty must be a positive number, got -1"])
        let gan = try wassersteinRunConfig(["--gradient-penalty", "0.5"], name: "gp")
        XCTAssertEqual(gan["gradientPenalty"] as? Double, 0.5)
    }

    /// The `gan` section of config.json after a one-epoch `--loss wasserstein` run (256 images,
    /// hidden 8, one thread) with `flags`, in run directory `name`; the run must succeed.
    func wassersteinRunConfig(_ flags: [String], name: String) throws -> [String: Any] {
        let run = tmp.appendingPathComponent(name)
        let r = try GenRunner.run(["train", "gan", "--loss", "wasserstein"] + flags
                                  + ["--limit", "256", "--epochs", "1", "--hidden", "8", "--threads", "1", "--out", run.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("config.json"))) as? [String: Any]
        return try XCTUnwrap(config?["gan"] as? [String: Any])
    }
}

extension ExitCodeTests {
    /// --weight-clip c selects the original WGAN (Arjovsky et al.: clipping, RMSprop 5e-5) and
    /// is refused with a penalty, another loss or another model.
    func testWeightClipFlag() throws {
        try expect(["train", "gan", "--weight-clip", "0.01", "--out", out], exit: 64,
                   mentions: ["--weight-clip applies to --loss wasserstein only"])
        try expect(["train", "gan", "--loss", "wasserstein", "--weight-clip", "0.01", "--gradient-penalty", "10", "--out", out],
                   exit: 64, mentions: ["--weight-clip and --gradient-penalty exclude each other"])
        try expect(["train", "vae", "--weight-clip", "0.01", "--out", out], exit: 64,
                   mentions: ["--gradient-penalty and --weight-clip apply to gan --loss wasserstein only"])
        try expect(["train", "gan", "--loss", "wasserstein", "--weight-clip", "0", "--out", out], exit: 64,
                   mentions: ["--weight-clip must be a positive number, got 0"])
        let gan = try wassersteinRunConfig(["--weight-clip", "0.02"], name: "clip")
        XCTAssertEqual(gan["clipValue"] as? Double ?? 0, 0.02, accuracy: 1e-7)
        XCTAssertNil(gan["gradientPenalty"] as? Double)
        XCTAssertEqual(gan["optimizer"] as? String, "rmsprop")
    }
}
