import Linalg
import NN

extension VAE {
    /// The convolutional VAE of `config` for 28x28 one-channel images in [0, 1]: the encoder and
    /// decoder of the Keras VAE example (keras-io `examples/generative/vae.py`: two 3x3 stride-2
    /// convolutions 32 and 64 with ReLU, mirrored by transposed convolutions) with 4x4 stride-2
    /// padding-1 kernels (which halve and double the side exactly, 28 -> 14 -> 7, as in
    /// `GAN.dcgan`), a latent of `latentDim` (20, as the MLP VAE) and a Bernoulli decoder
    /// (Kingma & Welling 2014, appendix C). With `c = config.hidden` (channel counts):
    /// - encoder (784 as 1x28x28): Conv2d(1, c0) -> 14x14, ReLU, Conv2d(c0, c1) -> 7x7, ReLU,
    ///   Flatten; heads `mu`, `logvar`: Linear(c1·49, latentDim) each;
    /// - decoder: Linear(latentDim, c1·49), ReLU, Unflatten(c1, 7, 7), ConvTranspose2d(c1, c0)
    ///   -> 14x14, ReLU, ConvTranspose2d(c0, 1) -> 28x28 pixel logits.
    /// Every weight has PyTorch's default initialisation (from `rng`, in layer order); the
    /// state-dict names are those of `nn.Sequential`s (`encoder.0.weight`, `mu.0.weight`,
    /// `decoder.0.weight`, `decoder.3.weight`, …), fed `N x 1 x 28 x 28` images by PyTorch.
    /// With `config.numClasses` K (a conditional VAE): the encoder's first Conv2d takes `1 + K`
    /// channels (the label as K constant one-hot maps, `LabelConditioned` with `spatial`
    /// 784) and the decoder's Linear `latentDim + K` inputs.
    /// - Throws: `ConfigError` for invalid settings (see `VAEConfig.validate`).
    public static func conv(_ config: VAEConfig, rng: inout Xoshiro256) throws -> VAE {
        try config.validate()
        guard config.architecture == .conv else { throw ConfigError("VAE.conv needs arch conv") }
        let c = config.hidden, latent = config.latentDim, k = config.numClasses ?? 0
        let encoder = Sequential([
            Conv2d(inChannels: 1 + k, outChannels: c[0], kernel: 4, stride: 2, padding: 1,
                   inputHeight: 28, inputWidth: 28, rng: &rng),
            ActivationLayer(.relu),
            Conv2d(inChannels: c[0], outChannels: c[1], kernel: 4, stride: 2, padding: 1,
                   inputHeight: 14, inputWidth: 14, rng: &rng),
            ActivationLayer(.relu),
            Flatten(),
        ])
        let mu = Sequential([Dense(inputSize: c[1] * 49, outputSize: latent, rng: &rng)])
        let logvar = Sequential([Dense(inputSize: c[1] * 49, outputSize: latent, rng: &rng)])
        let decoder = Sequential([
            Dense(inputSize: latent + k, outputSize: c[1] * 49, activation: .relu, rng: &rng),
            Unflatten(channels: c[1], height: 7, width: 7),
            ConvTranspose2d(inChannels: c[1], outChannels: c[0], kernel: 4, stride: 2, padding: 1,
                            inputHeight: 7, inputWidth: 7, rng: &rng),
            ActivationLayer(.relu),
            ConvTranspose2d(inChannels: c[0], outChannels: 1, kernel: 4, stride: 2, padding: 1,
                            inputHeight: 14, inputWidth: 14, rng: &rng),
        ])
        return try VAE(encoder: conditioned(encoder, config.numClasses, spatial: 28 * 28), muHead: mu,
                       logvarHead: logvar, decoder: conditioned(decoder, config.numClasses), dataDim: config.dataDim,
                       prior: classPrior(config, rng: &rng))
    }
}
