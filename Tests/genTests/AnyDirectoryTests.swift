import Foundation
import XCTest

/// `gen` run from a directory outside the repository: the shipped MNIST and reference
/// classifier are found (README search order: flags, $GEN_HOME, the current directory, the
/// executable's location, the source tree) and the resume hint works when pasted elsewhere.
final class AnyDirectoryTests: XCTestCase {
    var tmp: URL!
    let fm = FileManager.default

    override func setUpWithError() throws {
        tmp = try Reliability.temporaryDirectory("anydir")
        XCTAssertFalse(tmp.path.hasPrefix(CLITests.root.path + "/"), "the test directory must be outside the repository")
    }

    override func tearDownWithError() throws { try? fm.removeItem(at: tmp) }

    /// `gen train vae` with no --data and no --out from a temporary directory (a tiny run:
    /// --limit and one epoch), then `gen eval` of it with no --classifier.
    func testTrainAndEvalFromOutsideTheRepository() throws {
        let mnist = CLITests.root.appendingPathComponent("data/mnist").path
        var r = try GenRunner.run(["train", "vae", "--epochs", "1", "--limit", "256", "--hidden", "8",
                                   "--latent-dim", "2", "--threads", "1"], cwd: tmp)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("256 training samples from \(mnist);"), r.stdout)
        let runs = try fm.contentsOfDirectory(atPath: tmp.appendingPathComponent("runs").path)
        XCTAssertEqual(runs.count, 1, "one run directory under the current directory's runs/")
        let run = tmp.appendingPathComponent("runs").appendingPathComponent(runs[0])
        XCTAssertTrue(fm.fileExists(atPath: run.appendingPathComponent("checkpoints/step-00000002/state.json").path))

        r = try GenRunner.run(["eval", "runs/" + runs[0], "--count", "2", "--iwae-k", "1", "--iwae-images", "1",
                               "--no-memorisation", "--threads", "1"], cwd: tmp)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: run.appendingPathComponent("eval.json"))) as? [String: Any])
        XCTAssertEqual(json["classifier"] as? String,
                       CLITests.root.appendingPathComponent("models/mnist-classifier.safetensors").path)
    }

    /// $GEN_HOME comes before the other places: a package-like directory holding a 6-image
    /// MNIST in IDX format is the data of a run started without --data.
    func testGenHomeIsSearchedFirst() throws {
        let home = tmp.appendingPathComponent("home")
        let dir = home.appendingPathComponent("data/mnist")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        func be32(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8((v >> $0) & 0xFF) } }
        for (split, n) in [("train", 6), ("t10k", 3)] {
            let images = be32(0x803) + be32(n) + be32(2) + be32(2) + (0..<(4 * n)).map { UInt8($0 * 9 % 256) }
            let labels = be32(0x801) + be32(n) + (0..<n).map { UInt8($0 % 10) }
            try Data(images).write(to: dir.appendingPathComponent("\(split)-images-idx3-ubyte"))
            try Data(labels).write(to: dir.appendingPathComponent("\(split)-labels-idx1-ubyte"))
        }
        let r = try GenRunner.run(["train", "vae", "--epochs", "1", "--hidden", "4", "--latent-dim", "2",
                                   "--threads", "1", "--out", tmp.appendingPathComponent("run").path],
                                  cwd: tmp, env: ["GEN_HOME": home.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("6 training samples from \(dir.path);"), r.stdout)
        XCTAssertFalse(r.stderr.contains("has no data/mnist"), r.stderr)
    }

    /// A $GEN_HOME without the file is not skipped silently: the run uses the next place
    /// searched and says so on standard error.
    func testGenHomeWithoutTheDataWarns() throws {
        let home = tmp.appendingPathComponent("empty home")
        try fm.createDirectory(at: home, withIntermediateDirectories: true)
        let r = try GenRunner.run(["train", "vae", "--epochs", "1", "--limit", "256", "--hidden", "4", "--latent-dim", "2",
                                   "--threads", "1", "--out", tmp.appendingPathComponent("run").path],
                                  cwd: tmp, env: ["GEN_HOME": home.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let shipped = CLITests.root.appendingPathComponent("data/mnist").standardizedFileURL.path
        XCTAssertTrue(r.stderr.contains("gen: warning: $GEN_HOME=\(home.path) has no data/mnist; using \(shipped)"), r.stderr)
        XCTAssertTrue(r.stdout.contains("training samples from \(shipped);"), r.stdout)
    }

    /// The hint printed after SIGINT, run by a shell in another directory, resumes the run
    /// (a relative --out with a space: the hint must hold the absolute, quoted path).
    func testResumeHintIsPasteable() throws {
        let args = ["train", "vae", "--epochs", "1", "--limit", "512", "--hidden", "4", "--latent-dim", "2",
                    "--threads", "1", "--out", "my run"]
        let r = try GenRunner.run(args, cwd: tmp, env: ["GEN_TEST_SIGNAL_AT_STEP": "1"])
        XCTAssertEqual(r.status, 130, r.stderr)
        let hint = try XCTUnwrap(r.stdout.split(separator: "\n").first { $0.hasPrefix("resume with: ") })
        let command = String(hint.dropFirst("resume with: ".count))
        XCTAssertTrue(command.hasPrefix("/"), "an absolute path to the binary: \(command)")

        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        p.currentDirectoryURL = URL(fileURLWithPath: "/")
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("resuming \(tmp.appendingPathComponent("my run").path)"), text)
        XCTAssertTrue(text.contains("epoch 1/1"), text)
    }
}
