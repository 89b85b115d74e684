import Datasets
import Foundation
import Generative
import Linalg
import Training
import XCTest

/// The classifier trains through the library loop: cosine-annealed Adam, test accuracy per
/// epoch, exact resume, and the exported reference weights file.
final class ClassifierJobTests: TemporaryDirectoryTestCase {

    /// 4x4 byte images of 3 classes (class c brightens row c), 60 to train on, 30 to test.
    func data(labelOffset: UInt8 = 0) -> Dataset {
        func split(_ n: Int, _ seed: Int) -> LabeledImages {
            var images: [UInt8] = [], labels: [UInt8] = []
            for i in 0..<n {
                let c = i % 3
                for p in 0..<16 { images.append(UInt8((p / 4 == c ? 200 : 20) + (i * 7 + p * 13 + seed) % 40)) }
                labels.append(UInt8(c) + labelOffset)
            }
            return LabeledImages(images: images, labels: labels, count: n, height: 4, width: 4)
        }
        return Dataset(train: .bytes(split(60, 0)), test: .bytes(split(30, 5)), source: "formula", imageShape: (4, 4))
    }

    /// Batch 16 over 60 images: 4 batches an epoch, the last of 12.
    func config(epochs: Int = 3) -> RunConfig {
        var c = ClassifierConfig()
        c.hidden = [8]
        c.classes = 3
        return RunConfig(model: "classifier", gan: nil, vae: nil, epochs: epochs, batchSize: 16, seed: 4, threads: 1,
                         data: nil, limit: nil, sampleEvery: 1000, logEvery: 3, keepCheckpoints: 2, classifier: c)
    }

    /// lr_e = 1e-3 / 2 (1 + cos(pi e / 3)): 1e-3, 7.5e-4, 2.5e-4; the accuracy is the fraction
    /// of the 30 test images the final weights classify correctly.
    func testLoopAnnealsTheRateAndReportsTestAccuracy() throws {
        let loop = try TrainingLoop(config: config(), directory: tmp.appendingPathComponent("run"), data: data())
        XCTAssertEqual(loop.job.kind, "classifier")
        XCTAssertEqual(loop.job.evalColumns, ["test_accuracy"])
        var lines: [String] = [], accuracy: [Double] = []
        var cb = TrainingCallbacks()
        cb.epochEnded = { r in
            lines.append(r.line)
            accuracy += r.eval
            return EpochDecision()
        }
        XCTAssertEqual(try loop.run(cb), .completed)
        XCTAssertEqual(lines.map { String($0.prefix(11)) }, ["lr 1.00e-03", "lr 7.50e-04", "lr 2.50e-04"])
        XCTAssertEqual(accuracy.count, 3)
        let saved = try Checkpoint.readTensors("model", in: try XCTUnwrap(loop.directory.newestCheckpoint))
        var rng = Xoshiro256(seed: 0)
        let c = MNISTClassifier(inputSize: 16, hidden: [8], classes: 3, rng: &rng)
        try c.network.loadStateDict(saved)
        guard case .bytes(let test)? = data().test else { return XCTFail("no test split") }
        var right = 0
        for (i, p) in c.predictions(test.matrix(scaling: .unit)).enumerated() where p == Int(test.labels[i]) { right += 1 }
        XCTAssertEqual(accuracy.last, Double(right) / 30)
        // A classifier does not generate: no quality evaluator.
        let ref = try FIDReference(classifier: c, testImages: Matrix(rows: 2, cols: 16))
        XCTAssertNil(loop.job.qualityEvaluator(reference: ref, seed: 1))
    }

    /// A run interrupted mid-epoch and resumed ends with the same weights, optimiser state and
    /// metrics rows as the uninterrupted one.
    func testResumedRunEqualsTheUninterruptedOne() throws {
        let straight = tmp.appendingPathComponent("straight"), broken = tmp.appendingPathComponent("broken")
        XCTAssertEqual(try TrainingLoop(config: config(), directory: straight, data: data()).run(), .completed)
        let first = try TrainingLoop(config: config(), directory: broken, data: data())
        var stop = TrainingCallbacks()
        stop.stopRequested = { [unowned first] in first.job.step == 6 }
        guard case .interrupted = try first.run(stop) else { return XCTFail("not interrupted") }
        XCTAssertEqual(try TrainingLoop.resume(broken, data: data()).run(), .completed)
        let final = "checkpoints/step-00000012"
        for f in ["model.safetensors", "optimizer.safetensors"] {
            XCTAssertEqual(try Data(contentsOf: straight.appendingPathComponent("\(final)/\(f)")),
                           try Data(contentsOf: broken.appendingPathComponent("\(final)/\(f)")), f)
        }
        func rows(_ dir: URL) throws -> [String] {
            // Up to the timing columns: kind, epoch, step, loss, test_accuracy.
            try String(contentsOf: dir.appendingPathComponent("metrics.csv"), encoding: .utf8)
                .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).prefix(5).joined(separator: ",") }
        }
        XCTAssertEqual(try rows(straight), try rows(broken))
        XCTAssertEqual(try rows(straight).first, "kind,epoch,step,loss,test_accuracy")
    }

    /// The exported file loads as the reference classifier with the checkpoint's weights and the
    /// documented metadata.
    func testExportWritesTheReferenceWeightsFile() throws {
        let run = tmp.appendingPathComponent("run")
        let loop = try TrainingLoop(config: config(epochs: 1), directory: run, data: data())
        _ = try loop.run()
        let checkpoint = try XCTUnwrap(loop.directory.newestCheckpoint)
        let url = tmp.appendingPathComponent("out/c.safetensors")
        try ClassifierJob.export(checkpoint: checkpoint, to: url, testAccuracy: 0.98765, command: "gen x")
        let c = try MNISTClassifier.load(url)
        XCTAssertEqual([c.inputSize, c.classes], [16, 3])
        XCTAssertEqual(c.hidden, [8])
        XCTAssertEqual(c.metadata["test_accuracy"], "0.9877")
        XCTAssertEqual(c.metadata["epochs"], "1")
        XCTAssertEqual(c.metadata["command"], "gen x")
        XCTAssertEqual(c.metadata["architecture"], "16-8-3 ReLU MLP (nn.Sequential of Linear/ReLU)")
        XCTAssertEqual(c.metadata["features"], "penultimate layer (output of module 1, ReLU), 8 values")
        let saved = try Checkpoint.readTensors("model", in: checkpoint)
        for (name, tensor) in c.network.stateDict() { XCTAssertEqual(tensor, saved[name], name) }
        XCTAssertThrowsError(try ClassifierJob.export(checkpoint: tmp, to: url, testAccuracy: 0, command: ""))
    }

    /// Float data has no labels, and labels must be classes of the config: refused naming the data.
    func testDataWithoutUsableLabelsIsRefused() throws {
        let floats = Dataset(train: .floats(Matrix(rows: 4, cols: 16)), test: nil, source: "f.npy", imageShape: nil)
        XCTAssertThrowsError(try ClassifierJob.make(config: config(), data: floats)) { e in
            XCTAssertTrue("\(e)".hasPrefix("f.npy: the classifier needs labelled images"), "\(e)")
        }
        XCTAssertThrowsError(try ClassifierJob.make(config: config(), data: data(labelOffset: 1))) { e in
            XCTAssertEqual("\(e)", "formula: training label 3 is not one of the 3 classes")
        }
    }
}
