import Datasets
import Foundation
import Generative
import Linalg
import NN
import XCTest

/// The MNIST test set, loaded once for the evaluation tests.
let mnistTest: LabeledImages = {
    try! MNIST.load(.test, from: packageRoot.appendingPathComponent("data/mnist"))
}()

let committedClassifier = packageRoot.appendingPathComponent(MNISTClassifier.defaultPath)

/// The reference classifier against its committed file: layout, features by a naive forward
/// pass, its recorded test accuracy, save/load and the load errors.
final class EvaluationClassifierTests: XCTestCase {
    func testCommittedClassifierLayoutAndRecordedAccuracy() throws {
        let c = try MNISTClassifier.load(committedClassifier)
        XCTAssertEqual(c.inputSize, 784)
        XCTAssertEqual(c.hidden, [512, 256])
        XCTAssertEqual(c.classes, 10)
        // The accuracy `gen train classifier` measured and wrote into the file's metadata.
        let recorded = try XCTUnwrap(Double(c.metadata["test_accuracy"] ?? ""))
        XCTAssertEqual(recorded, 0.9848)
        XCTAssertEqual(try c.accuracy(mnistTest.matrix(), labels: mnistTest.labels), recorded, accuracy: 1e-12)
    }

    func testFeaturesAndLogitsMatchANaiveForwardPass() throws {
        let c = try MNISTClassifier.load(committedClassifier)
        let raw = try SafeTensors.read(from: committedClassifier).tensors
        let x = mnistTest.matrix().rows(0..<3)
        /// relu?(W v + b) in Double, W `out x in` as PyTorch stores it.
        func linear(_ v: [Double], _ name: String, relu: Bool) -> [Double] {
            let w = raw["\(name).weight"]!, b = raw["\(name).bias"]!
            return (0..<w.rows).map { o in
                var s = Double(b.elements[o])
                for i in 0..<w.cols { s += Double(w[o, i]) * v[i] }
                return relu ? max(s, 0) : s
            }
        }
        let f = c.features(x), l = c.logits(x)
        XCTAssertEqual(f.rows, 3); XCTAssertEqual(f.cols, 256)
        XCTAssertEqual(l.rows, 3); XCTAssertEqual(l.cols, 10)
        for r in 0..<3 {
            let v = (0..<784).map { Double(x[r, $0]) }
            let h = linear(linear(v, "0", relu: true), "2", relu: true)
            let out = linear(h, "4", relu: false)
            for j in 0..<256 { XCTAssertEqual(Double(f[r, j]), h[j], accuracy: 1e-4 * max(1, abs(h[j]))) }
            for j in 0..<10 { XCTAssertEqual(Double(l[r, j]), out[j], accuracy: 1e-4 * max(1, abs(out[j]))) }
        }
        XCTAssertEqual(c.logits(fromFeatures: f), l)
    }

    func testPredictionsOnTheFirstTestImagesAreTheirLabels() throws {
        let c = try MNISTClassifier.load(committedClassifier)
        // The first ten MNIST test labels, as published: 7 2 1 0 4 1 4 9 5 9.
        XCTAssertEqual(Array(mnistTest.labels[0..<10]), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        XCTAssertEqual(c.predictions(mnistTest.matrix().rows(0..<10)), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
        XCTAssertEqual(MNISTClassifier.predictions(Matrix([[0, 3, 3], [-1, -2, -0.5]])), [1, 2])   // first on ties
    }

    func testSaveLoadRoundTripKeepsWeightsAndMetadata() throws {
        var rng = Xoshiro256(seed: 3)
        let c = MNISTClassifier(inputSize: 6, hidden: [5, 4], classes: 3, rng: &rng)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("clf-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try c.save(to: url, metadata: ["note": "round trip"])
        let d = try MNISTClassifier.load(url)
        XCTAssertEqual([d.inputSize, d.classes] + d.hidden, [6, 3, 5, 4])
        XCTAssertEqual(d.metadata["note"], "round trip")
        let x = Matrix.uniform(rows: 7, cols: 6, using: &rng)
        XCTAssertEqual(d.logits(x), c.logits(x))
    }

    func testLoadErrorsNameTheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("clf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("none.safetensors")
        XCTAssertThrowsError(try MNISTClassifier.load(missing)) { e in
            XCTAssertEqual((e as? EvaluationError)?.kind, .fileNotFound)
            XCTAssertTrue("\(e)".hasPrefix(missing.path), "\(e)")
        }
        // A single linear layer has no hidden layer, hence no features.
        let linear = dir.appendingPathComponent("linear.safetensors")
        try SafeTensors.write([("0.weight", Matrix(rows: 10, cols: 784)), ("0.bias", Matrix(rows: 1, cols: 10))],
                              metadata: [:], to: linear)
        XCTAssertThrowsError(try MNISTClassifier.load(linear)) { e in
            XCTAssertEqual((e as? EvaluationError)?.kind, .malformedFile)
            XCTAssertTrue("\(e)".contains("not an MLP classifier"), "\(e)")
        }
        // 2.weight takes 7 inputs but 0.weight makes 5.
        let broken = dir.appendingPathComponent("broken.safetensors")
        try SafeTensors.write([("0.weight", Matrix(rows: 5, cols: 784)), ("2.weight", Matrix(rows: 10, cols: 7))],
                              metadata: [:], to: broken)
        XCTAssertThrowsError(try MNISTClassifier.load(broken)) { e in
            XCTAssertEqual("\(e)", "\(broken.path): 2.weight is 10x7, expected 5 inputs")
        }
        // A layer of no units (it used to trap in Dense's precondition).
        let empty = dir.appendingPathComponent("empty-layer.safetensors")
        try SafeTensors.write([("0.weight", Matrix(rows: 0, cols: 784)), ("2.weight", Matrix(rows: 10, cols: 0))],
                              metadata: [:], to: empty)
        XCTAssertThrowsError(try MNISTClassifier.load(empty)) { e in
            XCTAssertEqual("\(e)", "\(empty.path): 0.weight is 0x784: a layer needs at least one unit and one input")
        }
        // A NaN weight: refused at load, naming the tensor (it used to fail at the first FID).
        var rng = Xoshiro256(seed: 1)
        let nan = dir.appendingPathComponent("nan.safetensors")
        let withNaN = MNISTClassifier(inputSize: 4, hidden: [3], classes: 2, rng: &rng)
        withNaN.network.parameters[2].value[1, 0] = .nan
        try withNaN.save(to: nan, metadata: [:])
        XCTAssertThrowsError(try MNISTClassifier.load(nan)) { e in
            XCTAssertEqual((e as? EvaluationError)?.kind, .malformedFile)
            XCTAssertEqual("\(e)", "\(nan.path): 2.weight holds NaN or infinite values")
        }
        let c = MNISTClassifier(inputSize: 4, hidden: [3], classes: 2, rng: &rng)
        XCTAssertThrowsError(try c.accuracy(Matrix(rows: 2, cols: 4), labels: [0])) { e in
            XCTAssertEqual((e as? EvaluationError)?.kind, .shapeMismatch)
        }
    }
}
