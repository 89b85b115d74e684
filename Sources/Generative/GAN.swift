import Linalg
import NN

/// An MLP generative adversarial network (Goodfellow et al. 2014).
///
/// Generator: `z (batch x latentDim)` -> Dense + LeakyReLU per hidden width -> Dense -> tanh,
/// output `batch x dataDim` in (-1, 1). Discriminator: `x (batch x dataDim)` -> Dense + LeakyReLU
/// per hidden width -> Dense -> one logit per sample (`batch x 1`); the sigmoid is applied inside
/// the loss (BCE with logits), and the WGAN critic uses the raw score.
public final class GAN {
    public let config: GANConfig
    public let generator: Sequential
    public let discriminator: Sequential

    /// A freshly initialised GAN (PyTorch's `nn.Linear` default initialisation) from `rng`.
    /// - Throws: `ConfigError` for invalid settings.
    public init(config: GANConfig, rng: inout Xoshiro256) throws {
        try config.validate()
        self.config = config
        let act = Activation.leakyReLU(negativeSlope: config.negativeSlope)
        generator = GAN.mlp(sizes: [config.latentDim] + config.generatorHidden + [config.dataDim],
                            hidden: act, output: .tanh, rng: &rng)
        discriminator = GAN.mlp(sizes: [config.dataDim] + config.discriminatorHidden + [1],
                                hidden: act, output: .identity, rng: &rng)
        // Nobody needs dLoss/dz or dLoss/dx of the data: skip those gemms.
        generator.layers.first?.computesInputGradient = false
    }

    static func mlp(sizes: [Int], hidden: Activation, output: Activation,
                    rng: inout Xoshiro256) -> Sequential {
        var layers: [any Layer] = []
        for i in 0..<(sizes.count - 1) {
            let act = i == sizes.count - 2 ? output : hidden
            layers.append(Dense(inputSize: sizes[i], outputSize: sizes[i + 1], activation: act,
                                rng: &rng))
        }
        return Sequential(layers)
    }

    /// Generator samples for noise `z` (`n x latentDim`), `n x dataDim` in (-1, 1).
    /// Caches nothing (inference).
    public func generate(_ z: Matrix) -> Matrix {
        generator.forward(z, training: false)
    }

    /// `n` samples from noise drawn from `N(0, I)` with `rng`.
    public func sample(count n: Int, rng: inout Xoshiro256) -> Matrix {
        generate(Matrix.normal(rows: n, cols: config.latentDim, using: &rng))
    }
}
