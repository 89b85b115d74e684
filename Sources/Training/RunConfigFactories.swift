import Generative
import Linalg

extension RunConfig {
    /// A GAN run with `gen train`'s defaults for everything not given: the repository's
    /// data/mnist (`data` nil, all samples), one worker thread per processor (at most
    /// `maxThreads`), sample pictures every epoch, a metrics.csv step row every 100 steps, the
    /// newest 3 checkpoints kept, no gradient clipping. Every field stays settable afterwards.
    /// `gan` supplies the loss and optimiser settings (and, for `GANJob.make`, the MLP widths).
    public static func gan(_ gan: GANConfig = .standard(), epochs: Int, batchSize: Int = 128,
                           seed: UInt64 = 1) -> RunConfig {
        RunConfig(model: "gan", gan: gan, vae: nil, epochs: epochs, batchSize: batchSize, seed: seed,
                  threads: defaultThreads, data: nil, limit: nil, sampleEvery: 1, logEvery: 100,
                  keepCheckpoints: 3)
    }

    /// A VAE run with `gen train`'s defaults for everything not given (as `gan(_:epochs:batchSize:seed:)`).
    public static func vae(_ vae: VAEConfig = VAEConfig(), epochs: Int, batchSize: Int = 128,
                           seed: UInt64 = 1) -> RunConfig {
        RunConfig(model: "vae", gan: nil, vae: vae, epochs: epochs, batchSize: batchSize, seed: seed,
                  threads: defaultThreads, data: nil, limit: nil, sampleEvery: 1, logEvery: 100,
                  keepCheckpoints: 3)
    }

    /// One worker thread per processor, at most `maxThreads` (`gen train`'s default).
    public static var defaultThreads: Int { min(BLASThreads.processors, maxThreads) }
}
