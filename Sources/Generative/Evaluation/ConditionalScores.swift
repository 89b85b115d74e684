import Datasets
import Linalg

/// How well a conditional model makes the class it is asked for, judged by the reference
/// classifier: label accuracy (the fraction of samples the classifier puts in the requested
/// class; the "classification accuracy of generated samples" of e.g. Odena et al. 2017 with a
/// pre-trained classifier) and, per class, the FID of that class's samples against the test
/// images of that class.
public struct ConditionalScores: Codable, Sendable, Equatable {
    /// Fraction of all samples classified as their requested label, in [0, 1].
    public var labelAccuracy: Double
    /// The same per requested class (`classes` entries; NaN for a class with no samples).
    public var perClassAccuracy: [Double]
    /// FID of each class's samples against the test images of that class (squared feature
    /// units; NaN when either side has fewer than 2 images).
    public var perClassFID: [Double]
    /// Samples per class (the smallest count when they differ).
    public var samplesPerClass: Int

    public init(labelAccuracy: Double, perClassAccuracy: [Double], perClassFID: [Double], samplesPerClass: Int) {
        self.labelAccuracy = labelAccuracy
        self.perClassAccuracy = perClassAccuracy
        self.perClassFID = perClassFID
        self.samplesPerClass = samplesPerClass
    }
}

extension FIDReference {
    /// Label accuracy and per-class FID of `samples` (`n x classifier.inputSize` in [0, 1])
    /// generated for classes `labels` (n values in `0..<classes`), against the labelled test
    /// images.
    /// - Throws: `EvaluationError.shapeMismatch` when the widths or counts do not match, the
    ///   reference has no test labels, `classes` exceeds the classifier's, or a label is out of
    ///   range; `LAPACKError` for non-finite features.
    public func conditionalScores(samples: Matrix, labels: [Int32], classes: Int) throws -> ConditionalScores {
        guard samples.cols == classifier.inputSize, labels.count == samples.rows, !testLabels.isEmpty,
              classes >= 1, classes <= classifier.classes, labels.allSatisfy({ $0 >= 0 && Int($0) < classes }) else {
            throw EvaluationError(.shapeMismatch, "conditionalScores: \(samples.rows)x\(samples.cols) samples, \(labels.count) labels of \(classes) classes; "
                + "the classifier takes \(classifier.inputSize) values and knows \(classifier.classes) classes; \(testLabels.count) test labels")
        }
        let features = classifier.features(samples)
        let predicted = MNISTClassifier.predictions(classifier.logits(fromFeatures: features))
        let testFeatures = classifier.features(testImages)
        var right = [Int](repeating: 0, count: classes), total = right
        for (i, y) in labels.enumerated() {
            total[Int(y)] += 1
            if predicted[i] == Int(y) { right[Int(y)] += 1 }
        }
        var fids: [Double] = []
        for c in 0..<classes {
            let mine = rows(of: features, where: labels.indices.filter { labels[$0] == c })
            let theirs = rows(of: testFeatures, where: testLabels.indices.filter { Int(testLabels[$0]) == c })
            guard mine.rows >= 2 && theirs.rows >= 2 else { fids.append(.nan); continue }
            fids.append(try frechetDistance(FeatureStatistics(features: mine), FeatureStatistics(features: theirs)))
        }
        return ConditionalScores(
            labelAccuracy: Double(right.reduce(0, +)) / Double(max(labels.count, 1)),
            perClassAccuracy: (0..<classes).map { total[$0] == 0 ? .nan : Double(right[$0]) / Double(total[$0]) },
            perClassFID: fids, samplesPerClass: total.min() ?? 0)
    }

    /// The test images' labels as a conditional model of `classes` classes takes them, or nil
    /// when there are none or one is not among its classes (MNIST's 0-9 for a 2-class model):
    /// what needs the labels (label scores, a bound given the label) does not apply then.
    public func testLabels(forClasses classes: Int) -> [Int32]? {
        guard !testLabels.isEmpty, testLabels.allSatisfy({ Int($0) < classes }) else { return nil }
        return testLabels.map { Int32($0) }
    }

    /// The rows `indices` of `m`, as a new matrix (`gatherBatch`).
    private func rows(of m: Matrix, where indices: [Int]) -> Matrix {
        var out = Matrix.empty
        gatherBatch(from: m, indices: indices[...], into: &out)
        return out
    }
}

/// The classes 0, 1, ..., K-1, 0, 1, ... for `count` samples (equal numbers of each class when
/// K divides `count`): the labels `GAN.sample` and `VAE.sample` use by default.
public func cyclingLabels(count: Int, classes: Int) -> [Int32] {
    (0..<count).map { Int32($0 % classes) }
}
