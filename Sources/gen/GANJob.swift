import Datasets
import Foundation
import Generative
import Linalg
import Training
import NN

/// The GAN side of `gen train`.
final class GANJob: TrainingJob {
    let trainer: GANTrainer
    /// Fixed noise for the per-epoch sample grid, so epochs are comparable (as pytorch's DCGAN
    /// example's `fixed_noise`).
    let fixedNoise: Matrix
    let imageShape: (height: Int, width: Int)?

    init(trainer: GANTrainer, fixedNoise: Matrix, imageShape: (height: Int, width: Int)?) {
        self.trainer = trainer
        self.fixedNoise = fixedNoise
        self.imageShape = imageShape
    }

    var kind: String { "gan" }
    var scaling: PixelScaling { .symmetric }
    var stepColumns: [String] { ["d_loss", "g_loss", "d_real", "d_fake"] }
    var evalColumns: [String] { [] }
    var step: Int { trainer.step }

    /// Each step weighs 1 in the means (the losses are already batch means).
    func trainStep(_ batch: Matrix, values: inout [Double]) throws -> Int {
        let l = try trainer.step(real: batch)
        values[0] = Double(l.discriminator)
        values[1] = Double(l.generator)   // NaN on WGAN critic-only steps
        values[2] = Double(l.realScore)
        values[3] = Double(l.fakeScore)
        return 1
    }

    func evaluate(_ data: TrainingData) -> [Double] { [] }

    func epochLine(means: [Double], eval: [Double]) -> String {
        let score = trainer.model.config.loss == .wasserstein ? ("critic(x)", "critic(G(z))") : ("D(x)", "D(G(z))")
        return "D loss \(fmt(means[0]))  G loss \(fmt(means[1]))  \(score.0) \(fmt(means[2], 3))  \(score.1) \(fmt(means[3], 3))"
    }

    func writeSamples(to dir: URL, tag: String, data: TrainingData) throws {
        let samples = trainer.model.generate(fixedNoise)
        let shape = imageShape ?? (1, samples.cols)
        try PNGImage.writeGrid(samples, height: shape.height, width: shape.width,
                               columns: gridColumns(imageShape), range: -1...1,
                               to: dir.appendingPathComponent("\(tag).png"))
    }

    func checkpointFiles() -> [(stem: String, tensors: Checkpoint.Tensors)] {
        let m = trainer.model
        let opt = trainer.generatorOptimizer.stateTensors().map { ("generator." + $0.name, $0.tensor) }
            + trainer.discriminatorOptimizer.stateTensors().map { ("discriminator." + $0.name, $0.tensor) }
        return [("generator", m.generator.stateDict()),
                ("discriminator", m.discriminator.stateDict()),
                ("optimizer", opt)]
    }

    func trainingState(epoch: Int, dataRNG: Xoshiro256, batchInEpoch: Int) -> TrainingState {
        TrainingState(model: kind, epoch: epoch, batchInEpoch: batchInEpoch, step: trainer.step,
                      noiseRNG: trainer.rng.stateWords, dataRNG: dataRNG.stateWords,
                      optimizerSteps: ["generator": trainer.generatorOptimizer.stepCount,
                                       "discriminator": trainer.discriminatorOptimizer.stepCount])
    }

    func restore(from dir: URL, state: TrainingState) throws {
        let m = trainer.model
        let gSteps = try optimizerSteps(state, "generator", in: dir)
        let dSteps = try optimizerSteps(state, "discriminator", in: dir)
        try load(dir, "generator") { try m.generator.loadStateDict($0) }
        try load(dir, "discriminator") { try m.discriminator.loadStateDict($0) }
        try load(dir, "optimizer") { opt in
            try trainer.generatorOptimizer.loadState(Checkpoint.tensors(opt, withPrefix: "generator."),
                                                     stepCount: gSteps)
            try trainer.discriminatorOptimizer.loadState(Checkpoint.tensors(opt, withPrefix: "discriminator."),
                                                         stepCount: dSteps)
        }
        trainer.restore(step: state.step, rng: try generator(state.noiseRNG, in: dir))
    }
}

/// Reads `stem.safetensors` and applies `body`, naming the file in any error.
func load(_ dir: URL, _ stem: String, _ body: ([String: Matrix]) throws -> Void) throws {
    let tensors = try Checkpoint.readTensors(stem, in: dir)
    do {
        try body(tensors)
    } catch {
        throw CheckpointError("\(dir.appendingPathComponent(stem + ".safetensors").path): \(error)")
    }
}

/// The saved step count of optimiser `name` (Adam's bias correction depends on it), or an error
/// naming state.json when it is missing: defaulting to 0 would silently change the run.
func optimizerSteps(_ state: TrainingState, _ name: String, in dir: URL) throws -> Int {
    guard let n = state.optimizerSteps[name] else {
        throw CheckpointError("\(dir.appendingPathComponent("state.json").path): optimizerSteps has no \"\(name)\" entry")
    }
    return n
}

/// A generator from saved state words, or an error naming the checkpoint when they are invalid.
func generator(_ words: [UInt64], in dir: URL) throws -> Xoshiro256 {
    guard words.count == 4 && words.contains(where: { $0 != 0 }) else {
        throw CheckpointError("\(dir.appendingPathComponent("state.json").path): invalid generator state \(words)")
    }
    return Xoshiro256(stateWords: words)
}

/// Images per grid row: 8 for images; 1 for non-image vectors (each a 1-pixel-high strip), so a
/// grid of wide vectors stays within libpng's 1,000,000-pixel row limit.
func gridColumns(_ imageShape: (height: Int, width: Int)?) -> Int { imageShape == nil ? 1 : 8 }
