import Foundation
import Generative
import Linalg
import Training
import XCTest

/// EvaluationReport: eval.json's encoding, and the measurement on sets whose answers are known.
final class EvaluationReportTests: XCTestCase {
    /// 8 test images of 16 values with labels 0, 1, 2, 0, ... and a 16-4-3 classifier.
    func reference() throws -> FIDReference {
        var rng = Xoshiro256(seed: 11)
        let images = Matrix.uniform(rows: 8, cols: 16, using: &rng)
        let c = MNISTClassifier(inputSize: 16, hidden: [4], classes: 3, rng: &rng)
        return try FIDReference(classifier: c, testImages: images, testLabels: (0..<8).map { UInt8($0 % 3) })
    }

    func testNaNAndInfinityRoundTripAsStrings() throws {
        var r = EvaluationReport(source: "s", model: "gan", samples: 3, classifier: "c", classifierTestAccuracy: 0.5)
        r.fidTrainVsTest = .infinity
        let json = String(decoding: try r.encoded(), as: UTF8.self)
        XCTAssertTrue(json.contains(#""fid" : "nan""#), json)
        XCTAssertTrue(json.contains(#""fidTrainVsTest" : "inf""#), json)
        let back = try EvaluationReport.decode(Data(json.utf8))
        XCTAssertTrue(back.fid.isNaN)
        XCTAssertEqual(back.fidTrainVsTest, .infinity)
        XCTAssertEqual([back.source, back.model, back.classifier], ["s", "gan", "c"])
    }

    /// The test images measured against themselves: FID 0 and the floor 0 (train = test; to
    /// the matrix square root's round-off in Float features), every nearest training
    /// neighbour at distance 0; no model, so no IWAE rows.
    func testSamplesEqualToTheTestSetMeasureZero() throws {
        let ref = try reference()
        let (r, nearest) = try EvaluationReport.measure(samples: ref.testImages, model: nil, reference: ref,
                                                        train: ref.testImages, seed: 1)
        XCTAssertEqual(r.model, "samples")
        XCTAssertEqual(r.samples, 8)
        XCTAssertEqual(r.fid, 0, accuracy: 1e-3)
        XCTAssertEqual(r.fidTrainVsTest, r.fid)
        XCTAssertEqual(r.classifierTestAccuracy, try ref.classifierAccuracy())
        XCTAssertTrue(r.iwae.isEmpty)
        // Distances from |a|² + |b|² - 2a·b in Float: 0 to its round-off.
        XCTAssertEqual(try XCTUnwrap(r.memorisation).sampleMean, 0, accuracy: 1e-3)
        let pairs = try XCTUnwrap(nearest)
        XCTAssertEqual(pairs.rows % 2, 0)
        XCTAssertEqual(pairs.rows(0..<pairs.rows / 2), pairs.rows(pairs.rows / 2..<pairs.rows))
        let (_, none) = try EvaluationReport.measure(samples: ref.testImages, model: nil, reference: ref,
                                                     train: ref.testImages, seed: 1, memorisation: false)
        XCTAssertNil(none)
    }

    /// A VAE gets one IWAE row per k on the first `iwaeImages` test images, in increasing k.
    func testVAEGetsTheIWAERowsOfEachK() throws {
        let ref = try reference()
        var rng = Xoshiro256(seed: 2)
        var v = VAEConfig()
        (v.dataDim, v.hidden, v.latentDim) = (16, [4], 2)
        let vae = try VAE(config: v, rng: &rng)
        let (r, _) = try EvaluationReport.measure(samples: ref.testImages, model: .vae(vae), reference: ref,
                                                  train: ref.testImages, iwaeK: [100, 2], iwaeImages: 3, seed: 1,
                                                  memorisation: false)
        XCTAssertEqual(r.model, "vae")
        XCTAssertEqual(r.iwae.map { [$0.images, $0.k] }, [[3, 2], [3, 100]])
    }
}
