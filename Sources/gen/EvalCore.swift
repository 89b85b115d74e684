import Datasets
import Foundation
import Generative
import Linalg

/// A trained model loaded for evaluation.
enum EvalModel {
    case gan(GAN)
    case vae(VAE)

    var kind: String {
        switch self { case .gan: return "gan"; case .vae: return "vae" }
    }

    /// Loads the model of a checkpoint directory (its config.json names it).
    /// - Throws: `RunError`/`CheckpointError` naming the file.
    static func load(checkpoint dir: URL) throws -> EvalModel {
        let config = try RunConfig.read(checkpoint: dir)
        var initRNG = Xoshiro256(seed: 0)
        if let g = config.gan {
            let model = try GAN(config: g, rng: &initRNG)
            try gen.load(dir, "generator") { try model.generator.loadStateDict($0) }
            return .gan(model)
        } else if let v = config.vae {
            let model = try VAE(config: v, rng: &initRNG)
            try gen.load(dir, "model") { try model.loadStateDict($0) }
            return .vae(model)
        }
        throw RunError("\(dir.path)/config.json: names no model")
    }

    /// `count` samples in [0, 1] (`count x dataDim`), generated in chunks of 1000 from `N(0, I)`
    /// noise drawn with `rng`: GAN outputs mapped from [-1, 1] by `(x + 1) / 2`, VAE Bernoulli
    /// means of prior samples.
    func samples(count: Int, rng: inout Xoshiro256) -> Matrix {
        let dim: Int
        switch self {
        case .gan(let g): dim = g.dataDim
        case .vae(let v): dim = v.dataDim
        }
        var out = Matrix(rows: count, cols: dim)
        var start = 0
        while start < count {
            let n = min(1000, count - start)
            var part: Matrix
            switch self {
            case .gan(let g):
                part = g.sample(count: n, rng: &rng)
                part.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] = 0.5 * (p[i] + 1) } }
            case .vae(let v):
                part = v.sample(count: n, rng: &rng)
            }
            out.setRows(part, at: start)
            start += n
        }
        return out
    }
}

/// The reference side of sample-quality evaluation, computed once: the classifier, the
/// statistics of the MNIST test images' features, and the images themselves.
final class QualityReference {
    let classifier: MNISTClassifier
    let classifierPath: String
    let test: Matrix
    let testLabels: [UInt8]
    let testStatistics: FeatureStatistics

    /// - Throws: `RunError` when the classifier file is missing or malformed.
    init(classifierPath: String, test: LabeledImages) throws {
        classifier = try MNISTClassifier.load(URL(fileURLWithPath: classifierPath))
        self.classifierPath = classifierPath
        self.test = ClassifierTraining.images(test)
        testLabels = test.labels
        guard self.test.cols == classifier.inputSize else {
            throw RunError("\(classifierPath): expects \(classifier.inputSize) inputs but the test images have \(self.test.cols)")
        }
        testStatistics = FeatureStatistics(features: classifier.features(self.test))
    }

    /// FID of samples (`n x 784` in [0, 1]) against the test images, and their class coverage.
    func fidAndCoverage(_ samples: Matrix) throws -> (fid: Double, coverage: ModeCoverage) {
        let f = classifier.features(samples)
        let fid = try frechetDistance(FeatureStatistics(features: f), testStatistics)
        let pred = MNISTClassifier.predictions(classifier.logits(fromFeatures: f))
        return (fid, ModeCoverage(predictions: pred, classes: classifier.classes))
    }
}
