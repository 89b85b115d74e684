import Datasets
import Foundation
import Generative
import Linalg
import NN

/// A VAE run: the trainer, the fixed latent noise of the per-epoch sample grid, and what the
/// end-of-epoch test evaluation needs (its seed and batch size).
public final class VAEJob: TrainingJob {
    public let trainer: VAETrainer
    /// 64 x latentDim draws from N(0, I), decoded for the per-epoch sample grid.
    public let fixedNoise: Matrix
    /// The run's seed: the test evaluation draws its eps from `seed + 0x7E57`.
    public let seed: UInt64
    /// Test samples per evaluation batch.
    public let batchSize: Int
    private var testBatch = Matrix.empty

    public init(trainer: VAETrainer, fixedNoise: Matrix, seed: UInt64, batchSize: Int) {
        self.trainer = trainer
        self.fixedNoise = fixedNoise
        self.seed = seed
        self.batchSize = batchSize
    }

    /// Every model, trainer and optimiser of a VAE run is built here, from `config.vae` and the
    /// seed: weights from `Xoshiro256(seed)`, the trainer's eps from `seed + 1`, the fixed
    /// sample noise from `seed + 3` (`seed + 2` is the data order's). `data` is not needed by
    /// the MLP (config.vae.dataDim is set from it by the loop).
    /// - Throws: `RunError` when `config` has no vae section; the model's configuration errors.
    public static func make(config: RunConfig, data: Dataset) throws -> VAEJob {
        guard let vc = config.vae else { throw RunError("config: not a vae run (\(config.model))") }
        var initRNG = Xoshiro256(seed: config.seed)
        var fixedRNG = Xoshiro256(seed: config.seed &+ 3)
        let model = try VAE(config: vc, rng: &initRNG)
        let trainer = VAETrainer(model: model, config: vc, rng: Xoshiro256(seed: config.seed &+ 1))
        // After the non-finite check, so a NaN gradient is reported rather than scaled.
        if let maxNorm = config.clipNorm { trainer.gradientHooks.append(.clipNorm(maxNorm)) }
        return VAEJob(trainer: trainer, fixedNoise: Matrix.normal(rows: 64, cols: vc.latentDim, using: &fixedRNG),
                      seed: config.seed, batchSize: config.batchSize)
    }

    /// The trainer's data-parallel setup (`distribute(over:)`).
    public func distribute(over group: any ProcessGroup) throws { trainer.distribute(over: group) }

    public var kind: String { "vae" }
    public var scaling: PixelScaling { .unit }
    /// The model's input (and reconstruction) width.
    public var dataDim: Int? { trainer.model.dataDim }
    public var stepColumns: [String] { ["neg_elbo", "reconstruction", "kl"] }
    public var evalColumns: [String] { ["test_neg_elbo", "test_reconstruction", "test_kl"] }
    public var step: Int { trainer.step }

    /// Weighted by batch rows, so epoch means are per sample even with a partial last batch.
    public func trainStep(_ batch: Batch, values: inout [Double]) throws -> Int {
        let l = try trainer.step(batch: batch.x, labels: trainer.model.numClasses == nil ? nil : batch.labels,
                                 shard: batch.shard)
        values[0] = Double(l.negativeELBO)
        values[1] = Double(l.reconstruction)
        values[2] = Double(l.kl)
        return batch.x.rows
    }

    /// The test set's per-sample -ELBO, reconstruction and KL in nats, one eps draw per image
    /// from a generator fixed by the seed (so the figure does not disturb training's sequence).
    public func evaluate(_ data: Dataset) -> [Double] {
        guard let test = data.test else { return [] }
        var rng = Xoshiro256(seed: seed &+ 0x7E57)
        let n = test.count
        var sums = [0.0, 0.0, 0.0]
        var start = 0
        while start < n {
            let end = min(start + batchSize, n)
            test.gather(ArraySlice(start..<end), scaling: .unit, into: &testBatch)
            let labels = trainer.model.numClasses == nil ? nil : (start..<end).map { test.label($0) }
            let l = trainer.evaluate(testBatch, labels: labels, rng: &rng)
            let w = Double(end - start)
            sums[0] += Double(l.negativeELBO) * w
            sums[1] += Double(l.reconstruction) * w
            sums[2] += Double(l.kl) * w
            start = end
        }
        return sums.map { $0 / Double(n) }
    }

    public func epochLine(means: [Double], eval: [Double]) -> String {
        var line = "train -ELBO \(fmt(means[0], 2)) (rec \(fmt(means[1], 2)) + KL \(fmt(means[2], 2)))"
        if eval.count == 3 {
            line += "  test -ELBO \(fmt(eval[0], 2)) (rec \(fmt(eval[1], 2)) + KL \(fmt(eval[2], 2)))"
        }
        return line
    }

    /// Decoded fixed noise (a conditional VAE: the class grid of the first 10 noise rows), and
    /// reconstructions (rows of 8 originals of the test set, or the training set without one,
    /// each followed by a row of their reconstructions, given their labels), in [0, 1].
    public func samples(_ data: Dataset) -> [SampleSheet] {
        let m = trainer.model
        let columns = m.numClasses == nil ? 8 : min(10, fixedNoise.rows)
        let decoded = m.numClasses == nil ? m.decode(fixedNoise) : m.classGrid(noise: fixedNoise.rows(0..<columns))
        let source = data.test ?? data.train
        let n = min(32, source.count)
        var originals = Matrix.empty
        source.gather(ArraySlice(0..<n), scaling: .unit, into: &originals)
        let recon = m.reconstruct(originals, labels: m.numClasses == nil ? nil : (0..<n).map { source.label($0) })
        var pairs = Matrix(rows: 2 * n, cols: originals.cols)
        var row = 0
        for start in stride(from: 0, to: n, by: 8) {
            let end = min(start + 8, n)
            pairs.setRows(originals.rows(start..<end), at: row)
            pairs.setRows(recon.rows(start..<end), at: row + end - start)
            row += 2 * (end - start)
        }
        let range = trainer.model.outputRange
        return [SampleSheet(prefix: "", images: decoded, range: range, columns: columns),
                SampleSheet(prefix: "recon-", images: pairs, range: range)]
    }

    /// FID and class coverage of the decoder's samples, and the IWAE bound at k = 1 and 64 on
    /// the first 500 test images (`QualityEvaluator(reference:vae:...)`).
    public func qualityEvaluator(reference: FIDReference, seed: UInt64) -> QualityEvaluator? {
        QualityEvaluator(reference: reference, vae: trainer.model, seed: seed, iwaeImages: 500, iwaeK: [1, 64])
    }

    public func checkpointFiles() -> [(stem: String, tensors: Checkpoint.Tensors)] {
        [("model", trainer.model.stateDict()), ("optimizer", trainer.optimizer.stateTensors())]
    }

    /// The model's PyTorch shapes (conv weights 4-D).
    public var checkpointShapes: [String: [String: [Int]]] { ["model": stateDictShapes(trainer.model.stateEntries)] }

    public func trainingState(epoch: Int, dataRNG: Xoshiro256, batchInEpoch: Int) -> TrainingState {
        TrainingState(model: kind, epoch: epoch, batchInEpoch: batchInEpoch, step: trainer.step,
                      noiseRNG: trainer.rng.stateWords, dataRNG: dataRNG.stateWords,
                      optimizerSteps: ["vae": trainer.optimizer.stepCount])
    }

    public func restore(from dir: URL, state: TrainingState) throws {
        let steps = try optimizerSteps(state, "vae", in: dir)
        try Checkpoint.load("model", in: dir) { try trainer.model.loadStateDict($0) }
        try Checkpoint.load("optimizer", in: dir) {
            try trainer.optimizer.loadState($0, stepCount: steps)
        }
        trainer.restore(step: state.step, rng: try generator(state.noiseRNG, in: dir))
    }
}
