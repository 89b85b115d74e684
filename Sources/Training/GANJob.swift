import Datasets
import Foundation
import Generative
import Linalg
import NN

/// A GAN run: the trainer, and the fixed noise of the per-epoch sample grid.
public final class GANJob: TrainingJob {
    public let trainer: GANTrainer
    /// Fixed noise for the per-epoch sample grid, so epochs are comparable (as pytorch's DCGAN
    /// example's `fixed_noise`): 64 x latentDim.
    public let fixedNoise: Matrix

    public init(trainer: GANTrainer, fixedNoise: Matrix) {
        self.trainer = trainer
        self.fixedNoise = fixedNoise
    }

    /// Every model, trainer and optimiser of a GAN run is built here, from `config.gan` and the
    /// seed: weights from `Xoshiro256(seed)`, then as `init(model:config:)`. `data` is not
    /// needed by the MLP (config.gan.dataDim is set from it by the loop).
    /// - Throws: `RunError` when `config` has no gan section; the model's configuration errors.
    public static func make(config: RunConfig, data: Dataset) throws -> GANJob {
        guard let gc = config.gan else { throw RunError("config: not a gan run (\(config.model))") }
        var initRNG = Xoshiro256(seed: config.seed)
        return try GANJob(model: GAN(config: gc, rng: &initRNG), config: config)
    }

    /// A run of any `model` (a library user's own networks) with the training settings of
    /// `config.gan` — loss, optimiser, learning rate, betas, critic steps, gradient penalty —
    /// `lrSchedule` (cosine: over `config.epochs`) — and `config.clipNorm`; the widths and latent size of `config.gan` are not used (the
    /// model's are). The trainer's noise comes from `seed + 1`, the fixed sample noise
    /// (64 x latentDim) from `seed + 3`; `seed + 2` is the data order's (`TrainingLoop`).
    /// Pass it to `TrainingLoop(config:directory:data:job:)`.
    /// - Throws: `RunError` when `config` has no gan section or the model's `outputRange` is
    ///   neither -1...1 nor 0...1 (the data is scaled to one of them: `PixelScaling`);
    ///   `ConfigError` for invalid settings (e.g. a gradient penalty through a critic without
    ///   a double backward).
    public convenience init(model: GAN, config: RunConfig) throws {
        guard let gc = config.gan else { throw RunError("config: not a gan run (\(config.model))") }
        guard model.outputRange == -1...1 || model.outputRange == 0...1 else {
            throw RunError("gan: the generator's output range \(model.outputRange) is neither -1...1 nor 0...1, the two scalings of the data")
        }
        var fixedRNG = Xoshiro256(seed: config.seed &+ 3)
        let trainer = try GANTrainer(model: model, config: gc, rng: Xoshiro256(seed: config.seed &+ 1))
        // After the non-finite check, so a NaN gradient is reported rather than scaled.
        if let maxNorm = config.clipNorm { trainer.gradientHooks.append(.clipNorm(maxNorm)) }
        if let decay = gc.emaDecay, model.generatorAverage == nil { model.averageGenerator(decay: decay) }
        if gc.lrSchedule == .cosine {
            trainer.generatorOptimizer.schedule = CosineAnnealing(epochs: config.epochs)
            trainer.discriminatorOptimizer.schedule = CosineAnnealing(epochs: config.epochs)
        }
        self.init(trainer: trainer, fixedNoise: Matrix.normal(rows: 64, cols: model.latentDim, using: &fixedRNG))
    }

    /// The trainer's data-parallel setup (`distribute(over:)`).
    public func distribute(over group: any ProcessGroup) throws { trainer.distribute(over: group) }

    public var kind: String { "gan" }
    /// The data scaled to the generator's output range: `.unit` for 0...1, else `.symmetric`.
    public var scaling: PixelScaling { trainer.model.outputRange == 0...1 ? .unit : .symmetric }
    /// The generator's output width.
    public var dataDim: Int? { trainer.model.dataDim }
    public var stepColumns: [String] { ["d_loss", "g_loss", "d_real", "d_fake"] }
    public var evalColumns: [String] { [] }
    public var step: Int { trainer.step }

    /// Sets both players' learning rates for 0-based `epoch` from their schedules
    /// (`GANConfig.lrSchedule`; no change without one).
    public func startEpoch(_ epoch: Int) {
        trainer.generatorOptimizer.startEpoch(epoch)
        trainer.discriminatorOptimizer.startEpoch(epoch)
    }

    /// The losses are batch means: each step weighs 1 in the epoch means.
    public var weighsStepsEqually: Bool { true }

    /// Returns 1: see `weighsStepsEqually`.
    public func trainStep(_ batch: Batch, values: inout [Double]) throws -> Int {
        let l = try trainer.step(real: batch.x, labels: trainer.model.numClasses == nil ? nil : batch.labels,
                                 shard: batch.shard)
        values[0] = Double(l.discriminator)
        values[1] = Double(l.generator)   // NaN on WGAN critic-only steps
        values[2] = Double(l.realScore)
        values[3] = Double(l.fakeScore)
        return 1
    }

    public func evaluate(_ data: Dataset) -> [Double] { [] }

    public func epochLine(means: [Double], eval: [Double]) -> String {
        let score = trainer.loss == .wasserstein ? ("critic(x)", "critic(G(z))") : ("D(x)", "D(G(z))")
        return "D loss \(fmt(means[0]))  G loss \(fmt(means[1]))  \(score.0) \(fmt(means[2], 3))  \(score.1) \(fmt(means[3], 3))"
    }

    /// G(fixed noise), in the generator's output range (tanh: [-1, 1]); for a conditional GAN
    /// the class grid of the first 10 noise rows (`GAN.classGrid`: one row per class).
    public func samples(_ data: Dataset) -> [SampleSheet] {
        let m = trainer.model
        guard m.numClasses != nil else {
            return [SampleSheet(prefix: "", images: m.generate(fixedNoise), range: m.outputRange)]
        }
        let columns = min(10, fixedNoise.rows)
        return [SampleSheet(prefix: "", images: m.classGrid(noise: fixedNoise.rows(0..<columns)),
                            range: m.outputRange, columns: columns)]
    }

    /// FID and class coverage of the generator's samples (`QualityEvaluator(reference:gan:seed:)`).
    public func qualityEvaluator(reference: FIDReference, seed: UInt64) -> QualityEvaluator? {
        QualityEvaluator(reference: reference, gan: trainer.model, seed: seed)
    }

    /// The networks, the optimisers' state and, with an average, `generator_ema` (the
    /// generator's state dict holding the averaged parameters: what sampling uses).
    public func checkpointFiles() -> [(stem: String, tensors: Checkpoint.Tensors)] {
        let m = trainer.model
        let opt = trainer.generatorOptimizer.stateTensors().map { ("generator." + $0.name, $0.tensor) }
            + trainer.discriminatorOptimizer.stateTensors().map { ("discriminator." + $0.name, $0.tensor) }
        let average = m.generatorAverage.map { a in [("generator_ema", a.withAveragedParameters { m.generator.stateDict() })] }
        return [("generator", m.generator.stateDict()),
                ("discriminator", m.discriminator.stateDict()),
                ("optimizer", opt)] + (average ?? [])
    }

    /// The networks' PyTorch shapes (conv weights 4-D, BatchNorm's count 0-D).
    public var checkpointShapes: [String: [String: [Int]]] {
        let g = trainer.model.generator.stateDictShapes()
        var shapes = ["generator": g, "discriminator": trainer.model.discriminator.stateDictShapes()]
        if trainer.model.generatorAverage != nil { shapes["generator_ema"] = g }
        return shapes
    }

    public func trainingState(epoch: Int, dataRNG: Xoshiro256, batchInEpoch: Int) -> TrainingState {
        TrainingState(model: kind, epoch: epoch, batchInEpoch: batchInEpoch, step: trainer.step,
                      noiseRNG: trainer.rng.stateWords, dataRNG: dataRNG.stateWords,
                      optimizerSteps: ["generator": trainer.generatorOptimizer.stepCount,
                                       "discriminator": trainer.discriminatorOptimizer.stepCount])
    }

    public func restore(from dir: URL, state: TrainingState) throws {
        let m = trainer.model
        let gSteps = try optimizerSteps(state, "generator", in: dir)
        let dSteps = try optimizerSteps(state, "discriminator", in: dir)
        try Checkpoint.load("generator", in: dir) { try m.generator.loadStateDict($0) }
        try Checkpoint.load("discriminator", in: dir) { try m.discriminator.loadStateDict($0) }
        // Loaded through the swap, so the file's parameters land in the average (its buffers
        // are the generator's own, just loaded).
        try m.generatorAverage?.withAveragedParameters {
            try Checkpoint.load("generator_ema", in: dir) { try m.generator.loadStateDict($0) }
        }
        try Checkpoint.load("optimizer", in: dir) { opt in
            try trainer.generatorOptimizer.loadState(Checkpoint.tensors(opt, withPrefix: "generator."),
                                                     stepCount: gSteps)
            try trainer.discriminatorOptimizer.loadState(Checkpoint.tensors(opt, withPrefix: "discriminator."),
                                                         stepCount: dSteps)
        }
        trainer.restore(step: state.step, rng: try generator(state.noiseRNG, in: dir))
    }
}
