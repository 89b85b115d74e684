import Foundation
import Generative
import Linalg

/// A trained generative model loaded from a checkpoint directory, for sampling and evaluation
/// (`gen sample`, `gen eval`): the GAN's generator or the whole VAE, with the model's own
/// output range, so callers convert to [0, 1] once (`unitSamples`).
///
///     let model = try LoadedModel.load(checkpoint: runDir.newestCheckpoint!)
///     var rng = Xoshiro256(seed: 1)
///     let x = model.unitSamples(count: 10_000, rng: &rng)   // 10000 x 784, in [0, 1]
public enum LoadedModel {
    case gan(GAN)
    case vae(VAE)

    /// `gan` or `vae` (the checkpoint's `RunConfig.model`).
    public var kind: String {
        switch self { case .gan: return "gan"; case .vae: return "vae" }
    }

    /// The range of the model's samples, as the model states it (tanh GAN [-1, 1], VAE
    /// Bernoulli means [0, 1]).
    public var outputRange: ClosedRange<Float> {
        switch self { case .gan(let g): return g.outputRange; case .vae(let v): return v.outputRange }
    }

    /// Loads the model of a checkpoint directory (its config.json names it): only the weights
    /// needed to sample (`generator.safetensors` of a GAN — `generator_ema.safetensors` when its
    /// config has `emaDecay` —, `model.safetensors` of a VAE).
    /// - Throws: `CheckpointError` naming a missing or malformed file (config.json or weights,
    ///   including weights whose shapes do not fit the config); `RunError` naming config.json
    ///   when it is invalid or names no generative model (a classifier run).
    public static func load(checkpoint dir: URL) throws -> LoadedModel {
        let config = try RunConfig.read(checkpoint: dir)
        var initRNG = Xoshiro256(seed: 0)   // overwritten by the loaded weights
        if let g = config.gan {
            let model = try GAN(config: g, rng: &initRNG)
            // A run with a parameter average samples from it (GANJob.checkpointFiles).
            let weights = g.emaDecay == nil ? "generator" : "generator_ema"
            try Checkpoint.load(weights, in: dir) { try model.generator.loadStateDict($0) }
            return .gan(model)
        } else if let v = config.vae {
            let model = try VAE(config: v, rng: &initRNG)
            try Checkpoint.load("model", in: dir) { try model.loadStateDict($0) }
            return .vae(model)
        }
        throw RunError("\(dir.path)/config.json: names no generative model (\(config.model))")
    }

    /// Values per sample.
    public var dataDim: Int {
        switch self { case .gan(let g): return g.dataDim; case .vae(let v): return v.dataDim }
    }

    /// Size of the model's noise vector z.
    public var latentDim: Int {
        switch self { case .gan(let g): return g.latentDim; case .vae(let v): return v.latentDim }
    }

    /// The number of classes of a conditional model (it samples a requested class), or nil.
    public var numClasses: Int? {
        switch self { case .gan(let g): return g.numClasses; case .vae(let v): return v.numClasses }
    }

    /// `count x dataDim` samples in the model's own range (`outputRange`), noise from `rng`;
    /// a conditional model's of classes `labels` (`count` values; nil: `cyclingLabels`).
    /// - Precondition: no `labels` for an unconditional model; labels in `0..<numClasses`.
    public func sample(count: Int, labels: [Int32]? = nil, rng: inout Xoshiro256) -> Matrix {
        switch self {
        case .gan(let g): return g.sample(count: count, labels: labels, rng: &rng)
        case .vae(let v): return v.sample(count: count, labels: labels, rng: &rng)
        }
    }

    /// `count x dataDim` samples mapped to [0, 1] (the classifier's input range), generated in
    /// chunks of 1000 (`sampleInChunks`), noise from `rng`; for a conditional model of classes
    /// `labels` (nil: `cyclingLabels(count:classes:)`, equal numbers of each class).
    public func unitSamples(count: Int, labels: [Int32]? = nil, rng: inout Xoshiro256) -> Matrix {
        let all = labels ?? numClasses.map { cyclingLabels(count: count, classes: $0) }
        var start = 0
        return sampleInChunks(count: count, outputRange: outputRange, rng: &rng) { n, r in
            defer { start += n }
            return sample(count: n, labels: all.map { Array($0[start..<(start + n)]) }, rng: &r)
        }
    }
}
