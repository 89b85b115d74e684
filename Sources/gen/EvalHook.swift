import Datasets
import Foundation
import Generative
import Linalg

/// Sample-quality evaluation during `gen train` (`--eval-every N`, `--target-fid X`): every N
/// epochs (and after the last), FID of 10,000 samples against the MNIST test set and the number
/// of classes covered; for a VAE also the IWAE bound at k = 1 and 64 on the first 500 test
/// images. Adds these as extra metrics.csv columns (empty on other rows). Disabled (no columns,
/// no cost) when neither flag is given.
final class QualityHook {
    let every: Int
    let targetFID: Double?
    let columns: [String]
    private let reference: QualityReference?
    private let model: EvalModel?
    private let seed: UInt64
    /// Set once the FID has fallen below `targetFID`.
    private(set) var reachedTarget = false

    static let iwaeImages = 500

    init(command: Train, data: TrainingData, job: any TrainingJob, seed: UInt64) throws {
        self.seed = seed
        targetFID = command.targetFid
        guard command.evalEvery != nil || command.targetFid != nil else {
            every = 0; columns = []; reference = nil; model = nil
            return
        }
        every = command.evalEvery ?? 1
        guard case .bytes(let test)? = data.test else {
            throw RunError("--eval-every/--target-fid need MNIST data with its test set (\(data.source) has none)")
        }
        reference = try QualityReference(classifierPath: command.classifier ?? MNISTClassifier.defaultPath, test: test)
        if let g = job as? GANJob {
            model = .gan(g.trainer.model)
            columns = ["fid", "classes_covered"]
        } else if let v = job as? VAEJob {
            model = .vae(v.trainer.model)
            columns = ["fid", "classes_covered", "iwae1_nll", "iwae64_nll"]
        } else {
            model = nil
            columns = []
        }
    }

    /// NaN for each column (rows without an evaluation).
    var padding: [Double] { Array(repeating: .nan, count: columns.count) }

    /// The quality columns after `epoch` (NaN when not evaluated this epoch), printing a line
    /// when evaluated. Sets `reachedTarget`.
    func afterEpoch(_ epoch: Int, last: Bool) throws -> [Double] {
        guard let reference, let model, epoch % every == 0 || last else { return padding }
        let started = Date()
        // Same noise every evaluation, so epochs are compared on equal terms.
        var rng = Xoshiro256(seed: seed &+ 0xE7A1)
        let (fid, coverage) = try reference.fidAndCoverage(model.samples(count: 10000, rng: &rng))
        var values = [fid, Double(coverage.classesCovered)]
        var line = "  quality: FID \(fmt(fid, 3))  classes covered \(coverage.classesCovered)/\(coverage.histogram.count)\(coverage.isModeCollapse ? " (mode collapse)" : "")"
        if case .vae(let vae) = model {
            var r = Xoshiro256(seed: seed &+ 0x1AAE)
            let x = reference.test.rows(0..<min(Self.iwaeImages, reference.test.rows))
            let k1 = vae.importanceWeightedBound(x, k: 1, rng: &r)
            let k64 = vae.importanceWeightedBound(x, k: 64, rng: &r)
            values += [k1.negativeBound, k64.negativeBound]
            line += "  IWAE -log p(x) <= \(fmt(k1.negativeBound, 2)) (k=1), \(fmt(k64.negativeBound, 2)) (k=64) on \(x.rows) test images"
        }
        print(line + "  \(fmt(Date().timeIntervalSince(started), 1)) s")
        if let t = targetFID, fid < t { reachedTarget = true }
        return values
    }
}
