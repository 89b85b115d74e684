import Datasets
import Foundation
import Generative
import Linalg
import Training

/// A trained model loaded from a checkpoint directory: the one loader of `gen sample`,
/// `gen eval` and the training-time quality hook. Here, not in the library, only until models
/// know their own output range (then the range switch below disappears).
enum LoadedModel {
    case gan(GAN)
    case vae(VAE)

    var kind: String {
        switch self { case .gan: return "gan"; case .vae: return "vae" }
    }

    /// The range of the model's samples, as the model states it (tanh GAN [-1, 1], VAE
    /// Bernoulli means [0, 1]).
    var outputRange: ClosedRange<Float> {
        switch self { case .gan(let g): return g.outputRange; case .vae(let v): return v.outputRange }
    }

    /// Loads the model of a checkpoint directory (its config.json names it); only the weights
    /// needed to sample (the GAN's generator, the whole VAE).
    /// - Throws: `RunError`/`CheckpointError` naming the file.
    static func load(checkpoint dir: URL) throws -> LoadedModel {
        let config = try RunConfig.read(checkpoint: dir)
        var initRNG = Xoshiro256(seed: 0)   // overwritten by the loaded weights
        if let g = config.gan {
            let model = try GAN(config: g, rng: &initRNG)
            try Checkpoint.load("generator", in: dir) { try model.generator.loadStateDict($0) }
            return .gan(model)
        } else if let v = config.vae {
            let model = try VAE(config: v, rng: &initRNG)
            try Checkpoint.load("model", in: dir) { try model.loadStateDict($0) }
            return .vae(model)
        }
        throw RunError("\(dir.path)/config.json: names no model")
    }

    /// `count x dataDim` samples in the model's own range (`outputRange`), noise from `rng`.
    func sample(count: Int, rng: inout Xoshiro256) -> Matrix {
        switch self {
        case .gan(let g): return g.sample(count: count, rng: &rng)
        case .vae(let v): return v.sample(count: count, rng: &rng)
        }
    }

    /// `count` samples mapped to [0, 1], generated in chunks of 1000 (`sampleInChunks`).
    func unitSamples(count: Int, rng: inout Xoshiro256) -> Matrix {
        sampleInChunks(count: count, outputRange: outputRange, rng: &rng) { n, r in sample(count: n, rng: &r) }
    }

    /// The library's training-time evaluator for this model (FID and coverage; IWAE for a VAE).
    func qualityEvaluator(reference: FIDReference, seed: UInt64) -> QualityEvaluator {
        switch self {
        case .gan(let g): return QualityEvaluator(reference: reference, gan: g, seed: seed)
        case .vae(let v): return QualityEvaluator(reference: reference, vae: v, seed: seed,
                                                  iwaeImages: 500, iwaeK: [1, 64])
        }
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
