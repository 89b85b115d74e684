import Linalg

/// One sample-quality measurement of a model (see `QualityEvaluator`).
public struct QualityMeasurement: Sendable {
    /// FID of the samples against the reference's test images (squared feature units).
    public var fid: Double
    /// Predicted-class coverage of the samples.
    public var coverage: ModeCoverage
    /// IWAE bounds on the first test images, one per `k` in the evaluator's order (empty for
    /// a model without a likelihood bound).
    public var iwae: [IWAEResult]
}

/// Repeatable sample-quality evaluation of a model during training: each `evaluate()` draws
/// `sampleCount` samples from the same noise (a generator seeded `seed &+ 0xE7A1`, so epochs
/// are compared on equal terms), scores them with `FIDReference.evaluate`, and for a model
/// with a likelihood bound computes it on the first `iwaeImages` test images for each `k` in
/// `iwaeK`, in that order, from one generator seeded `seed &+ 0x1AAE`.
///
/// The model is reached only through closures, so any model type works:
///
///     let q = QualityEvaluator(reference: ref, gan: gan, seed: 1)
///     let m = try q.evaluate()           // m.fid, m.coverage.classesCovered
public final class QualityEvaluator {
    /// `n x d` samples in the model's `outputRange`, noise drawn from the generator.
    public typealias Sampler = (_ count: Int, _ rng: inout Xoshiro256) -> Matrix
    /// An importance-weighted bound on images (`n x d`, in [0, 1]) with `k` samples each.
    public typealias Bound = (_ images: Matrix, _ k: Int, _ rng: inout Xoshiro256) -> IWAEResult

    public let reference: FIDReference
    public let outputRange: ClosedRange<Float>
    public let sampleCount: Int
    public let seed: UInt64
    public let iwaeImages: Int
    public let iwaeK: [Int]
    private let sample: Sampler
    private let bound: Bound?

    /// - Parameters: `outputRange` of the sampler's values (mapped to [0, 1] before scoring);
    ///   `sampleCount >= 2`; `iwaeImages >= 1`, `iwaeK` each `>= 1` (used only with `bound`).
    /// - Precondition: the counts are in range (they are the caller's constants, not user input).
    public init(reference: FIDReference, outputRange: ClosedRange<Float>, sampleCount: Int = 10000,
                seed: UInt64, iwaeImages: Int = 500, iwaeK: [Int] = [1, 64],
                sample: @escaping Sampler, bound: Bound? = nil) {
        precondition(sampleCount >= 2 && iwaeImages >= 1 && iwaeK.allSatisfy { $0 >= 1 },
                     "QualityEvaluator: sampleCount \(sampleCount), iwaeImages \(iwaeImages), iwaeK \(iwaeK)")
        self.reference = reference
        self.outputRange = outputRange
        self.sampleCount = sampleCount
        self.seed = seed
        self.iwaeImages = iwaeImages
        self.iwaeK = iwaeK
        self.sample = sample
        self.bound = bound
    }

    /// A GAN's generator (samples in `gan.outputRange`, e.g. tanh's [-1, 1]); no likelihood bound.
    public convenience init(reference: FIDReference, gan: GAN, sampleCount: Int = 10000, seed: UInt64) {
        self.init(reference: reference, outputRange: gan.outputRange, sampleCount: sampleCount, seed: seed,
                  sample: { gan.sample(count: $0, rng: &$1) })
    }

    /// A VAE's decoder means (`vae.outputRange`, [0, 1]) and its IWAE bound; a conditional
    /// VAE's bound is on `-log p(x | y)` with the reference's test labels, and is left out when
    /// those labels are not its classes (no labels, or one at or above `numClasses`).
    public convenience init(reference: FIDReference, vae: VAE, sampleCount: Int = 10000, seed: UInt64,
                            iwaeImages: Int = 500, iwaeK: [Int] = [1, 64]) {
        var bound: Bound? = { vae.importanceWeightedBound($0, k: $1, rng: &$2) }
        if let k = vae.numClasses {
            let labels = reference.testLabels(forClasses: k)
            bound = labels.map { y in { images, k, rng in
                vae.importanceWeightedBound(images, labels: Array(y[0..<images.rows]), k: k, rng: &rng)
            } }
        }
        self.init(reference: reference, outputRange: vae.outputRange, sampleCount: sampleCount, seed: seed,
                  iwaeImages: iwaeImages, iwaeK: iwaeK,
                  sample: { vae.sample(count: $0, rng: &$1) }, bound: bound)
    }

    /// Whether `evaluate()` reports IWAE bounds.
    public var hasBound: Bool { bound != nil }

    /// Samples the model and measures it (see the type's description for the generators).
    /// - Throws: as `FIDReference.evaluate` (a sampler of the wrong width, NaN samples).
    public func evaluate() throws -> QualityMeasurement {
        var rng = Xoshiro256(seed: seed &+ 0xE7A1)
        let x = sampleInChunks(count: sampleCount, outputRange: outputRange, rng: &rng, sample)
        let (fid, coverage) = try reference.evaluate(x)
        var iwae: [IWAEResult] = []
        if let bound {
            var r = Xoshiro256(seed: seed &+ 0x1AAE)
            let images = reference.testImages.rows(0..<min(iwaeImages, reference.testImages.rows))
            for k in iwaeK { iwae.append(bound(images, k, &r)) }
        }
        return QualityMeasurement(fid: fid, coverage: coverage, iwae: iwae)
    }
}
