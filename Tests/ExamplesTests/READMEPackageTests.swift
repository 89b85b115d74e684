import Datasets
import Foundation
import Generative
import Linalg
import NN
import Training
import XCTest

/// The README's library example is the Examples/ package's code, and the README's files, as
/// written there, build against this repository with SwiftPM and train, save, reload, sample
/// and evaluate.
final class READMEPackageTests: XCTestCase {
    func testREADMEShowsTheExamplesSources() throws {
        let files = try READMEPackage.files()
        XCTAssertEqual(files.map(\.path), ["Package.swift", "Sources/mnist-gan/MNISTGAN.swift", "Sources/mnist-gan/main.swift"])
        let examples = READMEPackage.root.appendingPathComponent("Examples/Sources/MNISTGAN")
        for f in files where f.path.hasPrefix("Sources/") {
            let source = try String(contentsOf: examples.appendingPathComponent((f.path as NSString).lastPathComponent), encoding: .utf8)
            XCTAssertEqual(f.text, source, "README.md's \(f.path) differs from Examples/Sources/MNISTGAN")
        }
        let manifest = try XCTUnwrap(files.first?.text)
        XCTAssertTrue(manifest.hasPrefix("// swift-tools-version:"), "the tools version must be the manifest's first line")
        XCTAssertTrue(manifest.contains(#".package(path: "../swift-generative")"#))
    }

    /// Builds the README package (debug) beside a `swift-generative` link to this repository
    /// and runs it on the first 2,048 MNIST images: 64 steps of 32.
    func testREADMEPackageBuildsTrainsAndEvaluates() throws {
        let scratch = READMEPackage.root.appendingPathComponent(".build/readme-package")
        let package = try READMEPackage.lay(out: READMEPackage.files(), in: scratch)
        let started = Date()
        var build = try READMEPackage.run("/usr/bin/env", ["swift", "build", "--package-path", package.path], in: package)
        if build.status != 0 {
            // An incremental build of the path dependency can miss files added since: retry clean.
            try? FileManager.default.removeItem(at: package.appendingPathComponent(".build"))
            build = try READMEPackage.run("/usr/bin/env", ["swift", "build", "--package-path", package.path], in: package)
        }
        XCTAssertEqual(build.status, 0, "swift build of the README package:\n\(build.output.suffix(3000))")
        guard build.status == 0 else { return }
        let built = Date()
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("readme-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let run = try READMEPackage.run(package.appendingPathComponent(".build/debug/mnist-gan").path,
                                        [READMEPackage.root.path, "2048"], in: work)
        print("README package: swift build \(Int(built.timeIntervalSince(started))) s, run \(Int(Date().timeIntervalSince(built))) s")
        XCTAssertEqual(run.status, 0, run.output)
        try checkOutputs(of: run.output, in: work.appendingPathComponent("mnist-gan-output"))
    }

    /// The example's layers, written out again: nn.Sequential numbering puts the generator's
    /// Linear modules at 0 (Dense+ReLU: 0-1), 2 (Dense+LeakyReLU: 2-3), 4 (Dense, then the
    /// LeakyReLU layer 5) and 6 (Dense+tanh: 6-7).
    func mirrorGAN(seed: UInt64) throws -> GAN {
        var rng = Xoshiro256(seed: seed)
        let leaky = Activation.leakyReLU(negativeSlope: 0.2)
        let g = Sequential([Dense(inputSize: 64, outputSize: 128, activation: .relu, rng: &rng),
                            Dense(inputSize: 128, outputSize: 256, activation: leaky, rng: &rng),
                            Dense(inputSize: 256, outputSize: 512, rng: &rng), ActivationLayer(leaky),
                            Dense(inputSize: 512, outputSize: 784, activation: .tanh, rng: &rng)])
        let d = Sequential([Dense(inputSize: 784, outputSize: 512, activation: leaky, rng: &rng),
                            Dense(inputSize: 512, outputSize: 256, activation: leaky, rng: &rng),
                            Dense(inputSize: 256, outputSize: 1, rng: &rng)])
        return try GAN(generator: g, discriminator: d, latentDim: 64)
    }

    func checkOutputs(of output: String, in dir: URL) throws {
        // One epoch row after 2048 / 32 = 64 steps, and the final checkpoint of that step.
        let metrics = try String(contentsOf: dir.appendingPathComponent("run/metrics.csv"), encoding: .utf8)
        XCTAssertEqual(metrics.split(separator: "\n").filter { $0.hasPrefix("epoch,") }.map { $0.split(separator: ",")[1...2] },
                       [["1", "64"]])
        let checkpoint = dir.appendingPathComponent("run/checkpoints/step-00000064")
        let saved = try SafeTensors.read(from: dir.appendingPathComponent("model/generator.safetensors"))
        XCTAssertEqual(saved.shapes, ["0.weight": [128, 64], "0.bias": [128], "2.weight": [256, 128], "2.bias": [256],
                                      "4.weight": [512, 256], "4.bias": [512], "6.weight": [784, 512], "6.bias": [784]])
        // GAN.save wrote what the loop's last checkpoint holds.
        for f in ["generator", "discriminator"] {
            XCTAssertEqual(try SafeTensors.read(from: dir.appendingPathComponent("model/\(f).safetensors")).tensors,
                           try SafeTensors.read(from: checkpoint.appendingPathComponent("\(f).safetensors")).tensors, f)
        }
        // samples.png: an 8 x 8 grid of 28-pixel images 2 pixels apart, 238 x 238 (PNG IHDR).
        let png = try Data(contentsOf: dir.appendingPathComponent("samples.png"))
        XCTAssertEqual(Array(png[16..<24]), [0, 0, 0, 238, 0, 0, 0, 238])
        try checkFID(printed: output, model: dir.appendingPathComponent("model"))
    }

    /// The printed FID is the trained model's (recomputed here from the saved weights, same
    /// seed and threading), and lower than the same layers' before training.
    func checkFID(printed output: String, model: URL) throws {
        let line = try XCTUnwrap(output.split(separator: "\n").first { $0.hasPrefix("FID ") }, output)
        let fid = try XCTUnwrap(Double(line.dropFirst(4).prefix { $0 != "," }), String(line))
        let old = BLASThreads.threading
        BLASThreads.set(.rowSplit(threads: RunConfig.defaultThreads))   // as the example's loop left it
        defer { BLASThreads.set(old) }
        let reference = try FIDReference(classifier: READMEPackage.root.appendingPathComponent(MNISTClassifier.defaultPath),
                                         testImages: MNIST.load(.test, from: READMEPackage.root.appendingPathComponent("data/mnist")))
        let untrained = try mirrorGAN(seed: 1)
        let before = try QualityEvaluator(reference: reference, gan: untrained, seed: 1).evaluate().fid
        try untrained.load(from: model)
        let after = try QualityEvaluator(reference: reference, gan: untrained, seed: 1).evaluate().fid
        XCTAssertEqual(after, fid, accuracy: 1e-9 * fid)
        XCTAssertLessThan(after, before, "64 steps improve on the untrained generator")
        print("README package on 2,048 images: FID \(after), untrained \(before)")
    }
}
