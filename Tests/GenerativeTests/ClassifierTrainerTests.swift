import Foundation
import Generative
import Linalg
import NN
import XCTest

/// ClassifierTrainer: the step's loss is softmax cross-entropy of the logits before the update,
/// and a non-finite step changes nothing.
final class ClassifierTrainerTests: XCTestCase {
    func model() -> MNISTClassifier {
        var rng = Xoshiro256(seed: 5)
        return MNISTClassifier(inputSize: 6, hidden: [5], classes: 3, rng: &rng)
    }

    /// Deep copies of the weights (a state dict may share storage with the live parameters).
    func snapshot(_ m: MNISTClassifier) -> [Matrix] {
        m.network.stateDict().map { t in
            var c = Matrix(rows: t.tensor.rows, cols: t.tensor.cols)
            c.assign(t.tensor)
            return c
        }
    }

    func images() -> Matrix {
        var rng = Xoshiro256(seed: 6)
        return Matrix.uniform(rows: 4, cols: 6, using: &rng)
    }

    /// The returned loss is mean_i (log sum_j exp(l_ij) - l_i,label), computed here in Double
    /// from the logits of the untouched model; the update then changes the weights.
    func testStepReturnsTheCrossEntropyBeforeTheUpdate() throws {
        let m = model(), x = images()
        let labels: [Int32] = [0, 2, 1, 2]
        let logits = m.logits(x)
        var expected = 0.0
        for i in 0..<4 {
            let row = (0..<3).map { Double(logits[i, $0]) }
            expected += log(row.map { exp($0) }.reduce(0, +)) - row[Int(labels[i])]
        }
        expected /= 4
        let before = snapshot(m)
        let trainer = ClassifierTrainer(model: m, config: ClassifierConfig(), epochs: 3)
        let loss = try trainer.step(images: x, labels: labels)
        XCTAssertEqual(Double(loss), expected, accuracy: 1e-5 * expected)
        XCTAssertEqual(trainer.step, 1)
        XCTAssertNotEqual(snapshot(m)[0], before[0])
    }

    /// The cosine schedule is the optimiser's: lr_e = 1e-3 / 2 (1 + cos(pi e / 4)).
    func testConfigInitialiserAnnealsAdamByCosine() {
        let trainer = ClassifierTrainer(model: model(), config: ClassifierConfig(), epochs: 4)
        // 1e-3 * [1, (1 + sqrt(1/2)) / 2, 1/2, (1 - sqrt(1/2)) / 2]
        let expected: [Float] = [1e-3, 8.535534e-4, 5e-4, 1.4644661e-4]
        for (e, lr) in expected.enumerated() {
            trainer.optimizer.startEpoch(e)
            XCTAssertEqual(trainer.optimizer.learningRate, lr, accuracy: 1e-9, "epoch \(e)")
        }
    }

    func testNonFiniteInputThrowsAndLeavesTheWeights() {
        let m = model()
        var x = images()
        x[1, 2] = .nan
        let before = snapshot(m)
        let trainer = ClassifierTrainer(model: m, config: ClassifierConfig(), epochs: 1)
        XCTAssertThrowsError(try trainer.step(images: x, labels: [0, 1, 2, 0])) { e in
            XCTAssertTrue("\(e)".contains("classifier loss"), "\(e)")
        }
        XCTAssertEqual(snapshot(m), before)
    }
}
