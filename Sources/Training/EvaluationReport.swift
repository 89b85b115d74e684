import Foundation
import Generative
import Linalg

/// Everything `gen eval` measures of a set of samples, saved as `eval.json` (pretty-printed,
/// sorted keys; NaN and infinities as the strings `nan`, `inf`, `-inf`).
///
///     let ref = try FIDReference(classifier: URL(fileURLWithPath: MNISTClassifier.defaultPath), testImages: test)
///     let model = try LoadedModel.load(checkpoint: dir)
///     var rng = Xoshiro256(seed: 1)
///     let (report, _) = try EvaluationReport.measure(samples: model.unitSamples(count: 10_000, rng: &rng),
///                                                  model: model, reference: ref, train: train, seed: 1)
public struct EvaluationReport: Codable {
    /// Where the samples came from (a checkpoint directory or a .npy path).
    public var source: String
    /// `gan`, `vae`, or `samples` for a file of samples.
    public var model: String
    /// Number of samples evaluated.
    public var samples: Int
    /// The reference classifier's path, and its accuracy (fraction) on the test images.
    public var classifier: String
    public var classifierTestAccuracy: Double
    /// FID of the samples against the 10,000 test images (squared feature units).
    public var fid: Double = .nan
    /// FID of the first 10,000 training images against the test images: the floor a perfect
    /// generator would reach.
    public var fidTrainVsTest: Double = .nan
    public var coverage: ModeCoverage?
    /// IWAE bounds (VAE only), sorted by images then k.
    public var iwae: [IWAEResult] = []
    /// A conditional model's label accuracy and per-class FID (nil for an unconditional one).
    public var conditional: ConditionalScores?
    /// For a model of non-image data (no reference classifier applies): the MMD two-sample
    /// score of its samples against the training data (nil for images).
    public var twoSample: TwoSampleScore?
    /// Nearest-neighbour distances to the training set (nil when not measured).
    public var memorisation: Memorisation?
    /// Pictures written beside eval.json, relative to its directory.
    public var pictures: [String] = []
    /// Wall-clock seconds of the whole evaluation.
    public var seconds: Double = 0

    public init(source: String, model: String, samples: Int, classifier: String, classifierTestAccuracy: Double) {
        self.source = source
        self.model = model
        self.samples = samples
        self.classifier = classifier
        self.classifierTestAccuracy = classifierTestAccuracy
    }

    /// The report as eval.json's bytes.
    public func encoded() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        enc.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try enc.encode(self)
    }

    /// A report from eval.json's bytes.
    /// - Throws: `DecodingError` for malformed JSON.
    public static func decode(_ data: Data) throws -> EvaluationReport {
        let dec = JSONDecoder()
        dec.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try dec.decode(EvaluationReport.self, from: data)
    }

    /// Measures `samples` (`n x d` in [0, 1], `d` the classifier's input width, `n >= 2`): FID
    /// and class coverage against `reference`, the train-vs-test FID floor (the first 10,000
    /// rows of `train`, all `m x d` in [0, 1]), for a VAE the IWAE bound for each `iwaeK` on the
    /// first `iwaeImages` test images (draws from one generator seeded `seed + 1`, in `iwaeK`'s
    /// sorted order), and unless `memorisation` is false the nearest-neighbour analysis
    /// (`Memorisation.analyse`) of the first `memorisationImages` samples and test images. For a
    /// conditional model, `labels` are the classes the samples were generated for (nil:
    /// `cyclingLabels`, as `LoadedModel.unitSamples` makes them): label accuracy and per-class
    /// FID (`FIDReference.conditionalScores`), and the VAE's bound is on `-log p(x | y)` with the
    /// test images' labels. `progress` hears one sentence before each stage.
    /// - Returns: the report (`source`, `pictures` and `seconds` left for the caller), and the
    ///   memorisation picture's rows (`2c x d`, closest samples above their neighbours) or nil.
    /// - Throws: `EvaluationError` for mismatched widths or non-finite samples.
    public static func measure(samples x: Matrix, labels: [Int32]? = nil, model: LoadedModel?, reference: FIDReference,
                               train: Matrix, iwaeK: [Int] = [1, 64], iwaeImages: Int = 1000, seed: UInt64,
                               memorisation: Bool = true, memorisationImages: Int = 2000,
                               progress: (String) -> Void = { _ in }) throws -> (EvaluationReport, nearest: Matrix?) {
        var r = EvaluationReport(source: "", model: model?.kind ?? "samples", samples: x.rows,
                                 classifier: "", classifierTestAccuracy: try reference.classifierAccuracy())
        progress("FID and class coverage of \(x.rows) samples against \(reference.testImages.rows) test images (reference classifier's features)")
        (r.fid, r.coverage) = try reference.evaluate(x)
        r.fidTrainVsTest = try reference.evaluate(train.rows(0..<min(10000, train.rows))).fid
        // The reference's labels are MNIST's 0-9: label scores and a bound given the label only
        // apply to a conditional model of those classes.
        let testLabels = model?.numClasses.flatMap { k in k <= reference.classifier.classes ? reference.testLabels(forClasses: k) : nil }
        let testLabelsFit = model?.numClasses == nil || testLabels != nil
        if let k = model?.numClasses, testLabelsFit {
            progress("label accuracy and per-class FID (\(k) classes)")
            r.conditional = try reference.conditionalScores(
                samples: x, labels: labels ?? cyclingLabels(count: x.rows, classes: k), classes: k)
        }
        if case .vae(let vae)? = model, testLabelsFit {
            var rng = Xoshiro256(seed: seed &+ 1)
            let n = min(iwaeImages, reference.testImages.rows)
            let subset = reference.testImages.rows(0..<n)
            let y = testLabels.map { Array($0[0..<n]) }
            for k in iwaeK.sorted() {
                progress("IWAE bound, k = \(k), on \(n) test images")
                r.iwae.append(vae.importanceWeightedBound(subset, labels: y, k: k, rng: &rng))
            }
        }
        guard memorisation else { return (r, nil) }
        let m = max(1, memorisationImages)
        progress("memorisation: nearest training image of \(min(m, x.rows)) samples and \(min(m, reference.testImages.rows)) test images")
        let (summary, pairs) = try Memorisation.analyse(samples: x.rows(0..<min(m, x.rows)), train: train,
                                                        test: reference.testImages.rows(0..<min(m, reference.testImages.rows)))
        r.memorisation = summary
        return (r, pairs)
    }
}
