import Datasets
import Foundation
import Linalg

/// The reference side of sample-quality evaluation, computed once: the classifier, the test
/// images and the mean and covariance of their features. `evaluate` then scores any set of
/// samples against it:
///
///     let ref = try FIDReference(classifier: URL(fileURLWithPath: MNISTClassifier.defaultPath),
///                                testImages: try MNIST.load(.test, from: dir))
///     let (fid, coverage) = try ref.evaluate(samples)   // samples: n x 784 in [0, 1]
///
/// FID is the Fréchet distance between Gaussians fitted to the classifier's penultimate
/// features (Heusel et al. 2017, with this classifier in place of Inception; `frechetDistance`),
/// in squared feature units; coverage is the histogram of predicted classes (`ModeCoverage`).
public final class FIDReference {
    public let classifier: MNISTClassifier
    /// The reference images, `n x classifier.inputSize`, in [0, 1].
    public let testImages: Matrix
    /// Labels of `testImages` (empty when not given).
    public let testLabels: [UInt8]
    /// Mean and covariance of `classifier.features(testImages)`.
    public let testStatistics: FeatureStatistics

    /// - Parameters: `testImages` `n x classifier.inputSize` in [0, 1] with `n >= 2`;
    ///   `testLabels` empty or one per image.
    /// - Throws: `EvaluationError.shapeMismatch` for images of the wrong width, fewer than two
    ///   images, or a label count that does not match.
    public convenience init(classifier: MNISTClassifier, testImages: Matrix, testLabels: [UInt8] = []) throws {
        try self.init(classifier, "classifier", testImages, testLabels)
    }

    /// Loads the classifier from `url` (see `MNISTClassifier.load`), then as
    /// `init(classifier:testImages:testLabels:)`.
    /// - Throws: `EvaluationError` naming the file (missing, malformed, wrong input width).
    public convenience init(classifier url: URL, testImages: Matrix, testLabels: [UInt8] = []) throws {
        try self.init(MNISTClassifier.load(url), url.path, testImages, testLabels)
    }

    /// The reference from a labelled set such as `MNIST.load(.test, from:)` (bytes scaled to
    /// [0, 1]) and the classifier at `url` (default: the committed reference weights,
    /// `MNISTClassifier.defaultURL()`, found from any working directory).
    /// - Throws: `EvaluationError` naming the file (missing, malformed, wrong input width).
    public convenience init(classifier url: URL = MNISTClassifier.defaultURL()
                                ?? URL(fileURLWithPath: MNISTClassifier.defaultPath),
                            testImages: LabeledImages) throws {
        try self.init(MNISTClassifier.load(url), url.path, testImages.matrix(scaling: .unit), testImages.labels)
    }

    private init(_ classifier: MNISTClassifier, _ name: String, _ images: Matrix, _ labels: [UInt8]) throws {
        guard images.cols == classifier.inputSize else {
            throw EvaluationError(.shapeMismatch, "\(name): expects \(classifier.inputSize) inputs but the test images have \(images.cols)")
        }
        guard images.rows >= 2, labels.isEmpty || labels.count == images.rows else {
            throw EvaluationError(.shapeMismatch, "\(name): need at least 2 test images and one label per image (or none), got \(images.rows) images, \(labels.count) labels")
        }
        self.classifier = classifier
        testImages = images
        testLabels = labels
        testStatistics = FeatureStatistics(features: classifier.features(images))
    }

    /// FID of `samples` (`n x classifier.inputSize`, values in [0, 1], `n >= 2`) against the
    /// test images, and the samples' class coverage.
    /// - Throws: `EvaluationError.shapeMismatch` for the wrong width or fewer than 2 samples;
    ///   `LAPACKError` when the feature covariance holds NaN/inf (e.g. NaN samples).
    public func evaluate(_ samples: Matrix) throws -> (fid: Double, coverage: ModeCoverage) {
        guard samples.cols == classifier.inputSize, samples.rows >= 2 else {
            throw EvaluationError(.shapeMismatch, "evaluate: samples are \(samples.rows)x\(samples.cols), expected at least 2 rows of \(classifier.inputSize) values")
        }
        let f = classifier.features(samples)
        let fid = try frechetDistance(FeatureStatistics(features: f), testStatistics)
        let pred = MNISTClassifier.predictions(classifier.logits(fromFeatures: f))
        return (fid, ModeCoverage(predictions: pred, classes: classifier.classes))
    }

    /// The classifier's accuracy (in [0, 1]) on the test images.
    /// - Throws: `EvaluationError.shapeMismatch` when the reference was built without labels.
    public func classifierAccuracy() throws -> Double {
        try classifier.accuracy(testImages, labels: testLabels)
    }
}
