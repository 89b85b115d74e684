import Datasets
import Foundation
import Generative
import Linalg

/// Sample-quality evaluation at the end of epochs (`gen train --eval-every N`, `--target-fid
/// X`): every N epochs (and after the last), the job's `QualityEvaluator` (FID of 10,000
/// samples against the MNIST test set and the number of classes covered; for a VAE also the
/// IWAE bound at k = 1 and 64 on the first 500 test images). Its `columns` are extra
/// metrics.csv columns (`TrainingCallbacks.extraColumns`; empty on rows without an
/// evaluation). Disabled (no columns, no cost) when neither `every` nor `targetFID` is given.
public final class QualityHook {
    public let every: Int
    public let targetFID: Double?
    public let columns: [String]
    private let evaluator: QualityEvaluator?
    /// Set once the FID has fallen below `targetFID`.
    public private(set) var reachedTarget = false

    /// - Parameters:
    ///   - every: evaluate every this many epochs (1 when only `targetFID` is given).
    ///   - classifier: the reference classifier's weights; nil: the shipped ones
    ///     (`MNISTClassifier.defaultURL()`).
    /// - Throws: as `reference(every:targetFID:classifier:data:)`.
    public convenience init(every: Int?, targetFID: Double?, classifier: URL?, data: Dataset, job: any TrainingJob,
                            seed: UInt64) throws {
        let reference = try Self.reference(every: every, targetFID: targetFID, classifier: classifier, data: data)
        self.init(every: every, targetFID: targetFID, reference: reference, job: job, seed: seed)
    }

    /// A hook over a reference built beforehand by `reference(every:targetFID:classifier:data:)`
    /// (e.g. before a run directory is written, so that a bad classifier leaves nothing
    /// behind). Disabled when `reference` is nil.
    public init(every: Int?, targetFID: Double?, reference: FIDReference?, job: any TrainingJob, seed: UInt64) {
        self.targetFID = targetFID
        guard let reference, every != nil || targetFID != nil else {
            self.every = 0; columns = []; evaluator = nil
            return
        }
        self.every = every ?? 1
        evaluator = job.qualityEvaluator(reference: reference, seed: seed)
        columns = evaluator.map { ["fid", "classes_covered"] + ($0.hasBound ? ["iwae1_nll", "iwae64_nll"] : []) } ?? []
    }

    /// The FID reference an evaluation every `every` epochs or towards `targetFID` needs: the
    /// classifier at `classifier` (nil: the shipped one) and `data`'s MNIST test set; nil when
    /// neither `every` nor `targetFID` is given. Reads the classifier and computes the test
    /// images' features; writes nothing.
    /// - Throws: `RunError` when `data` has no labelled test set or the classifier file is
    ///   missing; `EvaluationError` naming the file when it is not a classifier of this layout,
    ///   holds non-finite weights or takes another input width; the safetensors reader's error
    ///   (naming the file) when it does not parse.
    public static func reference(every: Int?, targetFID: Double?, classifier: URL?,
                                 data: Dataset) throws -> FIDReference? {
        guard every != nil || targetFID != nil else { return nil }
        guard case .bytes(let test)? = data.test else {
            throw RunError("--eval-every/--target-fid need MNIST data with its test set (\(data.source) has none)")
        }
        guard let weights = classifier ?? MNISTClassifier.defaultURL() else {
            throw RunError("\(MNISTClassifier.defaultPath) not found in \(ShippedFiles.searchedPlaces())")
        }
        return try loadFIDReference(classifierPath: weights.path, test: test)
    }

    /// NaN for each column (rows without an evaluation).
    public var padding: [Double] { Array(repeating: .nan, count: columns.count) }

    /// The quality columns after `epoch` (NaN when not evaluated this epoch) and the
    /// measurement when there was one, with the seconds it took. Sets `reachedTarget`.
    public func afterEpoch(_ epoch: Int, last: Bool) throws -> (values: [Double], measured: (QualityMeasurement, Double)?) {
        guard let evaluator, epoch % every == 0 || last else { return (padding, nil) }
        let started = Date()
        let m = try evaluator.evaluate()
        if let t = targetFID, m.fid < t { reachedTarget = true }
        return ([m.fid, Double(m.coverage.classesCovered)] + m.iwae.map(\.negativeBound),
                (m, Date().timeIntervalSince(started)))
    }
}

/// The FID reference from the classifier at `path` and the MNIST test set, with a hint when
/// the weights are missing.
/// - Throws: `RunError` naming the file when it is missing; otherwise as
///   `FIDReference(classifier:testImages:)`.
public func loadFIDReference(classifierPath path: String, test: LabeledImages) throws -> FIDReference {
    do {
        return try FIDReference(classifier: URL(fileURLWithPath: path), testImages: test)
    } catch let e as EvaluationError where e.kind == .fileNotFound {
        throw RunError("\(e.description) (train them with `gen train classifier`, or pass --classifier FILE)")
    }
}
