import Datasets
import Foundation
import Generative
import Linalg
import Training

/// Sample-quality evaluation during `gen train` (`--eval-every N`, `--target-fid X`): every N
/// epochs (and after the last), the library's `QualityEvaluator` (FID of 10,000 samples against
/// the MNIST test set and the number of classes covered; for a VAE also the IWAE bound at k = 1
/// and 64 on the first 500 test images). Adds these as extra metrics.csv columns (empty on
/// other rows) and prints a line. Disabled (no columns, no cost) when neither flag is given.
final class QualityHook {
    let every: Int
    let targetFID: Double?
    let columns: [String]
    private let evaluator: QualityEvaluator?
    /// Set once the FID has fallen below `targetFID`.
    private(set) var reachedTarget = false

    init(command: Train, data: Dataset, job: any TrainingJob, seed: UInt64) throws {
        targetFID = command.targetFid
        guard command.evalEvery != nil || command.targetFid != nil else {
            every = 0; columns = []; evaluator = nil
            return
        }
        every = command.evalEvery ?? 1
        guard case .bytes(let test)? = data.test else {
            throw RunError("--eval-every/--target-fid need MNIST data with its test set (\(data.source) has none)")
        }
        let reference = try loadFIDReference(classifierPath: InputPaths.classifier(command.classifier).path, test: test)
        evaluator = job.qualityEvaluator(reference: reference, seed: seed)
        columns = evaluator.map { ["fid", "classes_covered"] + ($0.hasBound ? ["iwae1_nll", "iwae64_nll"] : []) } ?? []
    }

    /// NaN for each column (rows without an evaluation).
    var padding: [Double] { Array(repeating: .nan, count: columns.count) }

    /// The quality columns after `epoch` (NaN when not evaluated this epoch), printing a line
    /// when evaluated. Sets `reachedTarget`.
    func afterEpoch(_ epoch: Int, last: Bool) throws -> [Double] {
        guard let evaluator, epoch % every == 0 || last else { return padding }
        let started = Date()
        let m = try evaluator.evaluate()
        let c = m.coverage
        var line = "  quality: FID \(fmt(m.fid, 3))  classes covered \(c.classesCovered)/\(c.histogram.count)\(c.isModeCollapse ? " (mode collapse)" : "")"
        if m.iwae.count == 2 {
            line += "  IWAE -log p(x) <= \(fmt(m.iwae[0].negativeBound, 2)) (k=1), \(fmt(m.iwae[1].negativeBound, 2)) (k=64) on \(m.iwae[0].images) test images"
        }
        print(line + "  \(fmt(Date().timeIntervalSince(started), 1)) s")
        if let t = targetFID, m.fid < t { reachedTarget = true }
        return [m.fid, Double(c.classesCovered)] + m.iwae.map(\.negativeBound)
    }
}

/// The FID reference from the classifier at `path` and the MNIST test set, with the CLI's hint
/// when the weights are missing.
/// - Throws: `RunError` naming the file.
func loadFIDReference(classifierPath path: String, test: LabeledImages) throws -> FIDReference {
    do {
        return try FIDReference(classifier: URL(fileURLWithPath: path), testImages: test)
    } catch let e as EvaluationError where e.kind == .fileNotFound {
        throw RunError("\(e.description) (train them with `gen train classifier`, or pass --classifier FILE)")
    }
}
