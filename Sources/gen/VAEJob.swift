import Datasets
import Foundation
import Generative
import Linalg
import Training
import NN

/// The VAE side of `gen train`.
final class VAEJob: TrainingJob {
    let trainer: VAETrainer
    let fixedNoise: Matrix
    let imageShape: (height: Int, width: Int)?
    let seed: UInt64
    let batchSize: Int
    private var testBatch = Matrix.empty

    init(trainer: VAETrainer, fixedNoise: Matrix, imageShape: (height: Int, width: Int)?,
         seed: UInt64, batchSize: Int) {
        self.trainer = trainer
        self.fixedNoise = fixedNoise
        self.imageShape = imageShape
        self.seed = seed
        self.batchSize = batchSize
    }

    var kind: String { "vae" }
    var scaling: PixelScaling { .unit }
    var stepColumns: [String] { ["neg_elbo", "reconstruction", "kl"] }
    var evalColumns: [String] { ["test_neg_elbo", "test_reconstruction", "test_kl"] }
    var step: Int { trainer.step }

    /// Weighted by batch rows, so epoch means are per sample even with a partial last batch.
    func trainStep(_ batch: Matrix, values: inout [Double]) throws -> Int {
        let l = try trainer.step(batch: batch)
        values[0] = Double(l.negativeELBO)
        values[1] = Double(l.reconstruction)
        values[2] = Double(l.kl)
        return batch.rows
    }

    /// The test set's per-sample -ELBO, reconstruction and KL in nats, one eps draw per image
    /// from a generator fixed by the seed (so the figure does not disturb training's sequence).
    func evaluate(_ data: TrainingData) -> [Double] {
        guard let test = data.test else { return [] }
        var rng = Xoshiro256(seed: seed &+ 0x7E57)
        let n = TrainingData.count(test)
        var sums = [0.0, 0.0, 0.0]
        var start = 0
        while start < n {
            let end = min(start + batchSize, n)
            TrainingData.gather(test, indices: ArraySlice(start..<end), scaling: .unit, into: &testBatch)
            let l = trainer.evaluate(testBatch, rng: &rng)
            let w = Double(end - start)
            sums[0] += Double(l.negativeELBO) * w
            sums[1] += Double(l.reconstruction) * w
            sums[2] += Double(l.kl) * w
            start = end
        }
        return sums.map { $0 / Double(n) }
    }

    func epochLine(means: [Double], eval: [Double]) -> String {
        var line = "train -ELBO \(fmt(means[0], 2)) (rec \(fmt(means[1], 2)) + KL \(fmt(means[2], 2)))"
        if eval.count == 3 {
            line += "  test -ELBO \(fmt(eval[0], 2)) (rec \(fmt(eval[1], 2)) + KL \(fmt(eval[2], 2)))"
        }
        return line
    }

    func writeSamples(to dir: URL, tag: String, data: TrainingData) throws {
        let shape = imageShape ?? (1, trainer.model.config.dataDim)
        try PNGImage.writeGrid(trainer.model.decode(fixedNoise), height: shape.height,
                               width: shape.width, columns: gridColumns(imageShape), range: 0...1,
                               to: dir.appendingPathComponent("\(tag).png"))
        // Reconstructions: rows of 8 originals, each followed by a row of their reconstructions.
        let source = data.test ?? data.train
        let n = min(32, TrainingData.count(source))
        var originals = Matrix.empty
        TrainingData.gather(source, indices: ArraySlice(0..<n), scaling: .unit, into: &originals)
        let recon = trainer.model.reconstruct(originals)
        var pairs = Matrix(rows: 2 * n, cols: originals.cols)
        var row = 0
        for start in stride(from: 0, to: n, by: 8) {
            let end = min(start + 8, n)
            for i in start..<end { setRow(&pairs, row, originals, i); row += 1 }
            for i in start..<end { setRow(&pairs, row, recon, i); row += 1 }
        }
        try PNGImage.writeGrid(pairs, height: shape.height, width: shape.width,
                               columns: gridColumns(imageShape), range: 0...1,
                               to: dir.appendingPathComponent("recon-\(tag).png"))
    }

    private func setRow(_ dst: inout Matrix, _ r: Int, _ src: Matrix, _ s: Int) {
        for j in 0..<src.cols { dst[r, j] = src[s, j] }
    }

    func checkpointFiles() -> [(stem: String, tensors: Checkpoint.Tensors)] {
        [("model", trainer.model.stateDict()), ("optimizer", trainer.optimizer.stateTensors())]
    }

    func trainingState(epoch: Int, dataRNG: Xoshiro256, batchInEpoch: Int) -> TrainingState {
        TrainingState(model: kind, epoch: epoch, batchInEpoch: batchInEpoch, step: trainer.step,
                      noiseRNG: trainer.rng.stateWords, dataRNG: dataRNG.stateWords,
                      optimizerSteps: ["vae": trainer.optimizer.stepCount])
    }

    func restore(from dir: URL, state: TrainingState) throws {
        let steps = try optimizerSteps(state, "vae", in: dir)
        try load(dir, "model") { try trainer.model.loadStateDict($0) }
        try load(dir, "optimizer") {
            try trainer.optimizer.loadState($0, stepCount: steps)
        }
        trainer.restore(step: state.step, rng: try generator(state.noiseRNG, in: dir))
    }
}
