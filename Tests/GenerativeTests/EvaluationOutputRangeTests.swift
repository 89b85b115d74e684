import Foundation
import Generative
import Linalg
import NN
import XCTest

/// `QualityEvaluator(reference:gan:)` maps samples from the GAN's own `outputRange`.
final class EvaluationOutputRangeTests: XCTestCase {
    /// A GAN over 2 values whose generator ignores z and always gives `b` (zero weights).
    func constantGAN(_ b: [Float], range: ClosedRange<Float>) throws -> GAN {
        var rng = Xoshiro256(seed: 1)
        let g = Dense(inputSize: 2, outputSize: 2, rng: &rng)
        try g.loadStateDict(["weight": Matrix(rows: 2, cols: 2), "bias": Matrix([b])])
        return try GAN(generator: g, discriminator: Dense(inputSize: 2, outputSize: 1, rng: &rng),
                       latentDim: 2, outputRange: range)
    }

    /// Test points (1|2, 1|2): mean (1.5, 1.5), covariance diag(1/3, 1/3). Constant samples
    /// have zero covariance, so FID = |b - (1.5, 1.5)|² + 2/3 (the trace terms of the
    /// constant set and the cross term vanish).
    func testConstantSamplesAreScoredInTheModelsRange() throws {
        let ref = try FIDReference(classifier: identityClassifier(), testImages: Matrix([[1, 1], [2, 1], [1, 2], [2, 2]]))
        // Range 0...1: samples are used as they are, b = (0.5, 0.25).
        let unit = try QualityEvaluator(reference: ref, gan: constantGAN([0.5, 0.25], range: 0...1),
                                        sampleCount: 10, seed: 1).evaluate()
        XCTAssertEqual(unit.fid, 1.0 + 1.5625 + 2.0 / 3, accuracy: 1e-5)
        // Range -1...1: (b + 1) / 2 = (0.75, 0.625).
        let tanh = try QualityEvaluator(reference: ref, gan: constantGAN([0.5, 0.25], range: -1...1),
                                        sampleCount: 10, seed: 1).evaluate()
        XCTAssertEqual(tanh.fid, 0.5625 + 0.765625 + 2.0 / 3, accuracy: 1e-5)
        XCTAssertEqual(unit.coverage.histogram, [10, 0])   // argmax of (0.5, 0.25) is 0
    }
}
