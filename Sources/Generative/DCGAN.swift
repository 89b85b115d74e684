import Linalg
import NN

extension GAN {
    /// The convolutional GAN of `config` for 28x28 one-channel images: DCGAN (Radford, Metz &
    /// Chintala 2016, "Unsupervised representation learning with deep convolutional generative
    /// adversarial networks", section 3 and figure 1) adapted to 28x28 as in pytorch/examples'
    /// `dcgan` and the TensorFlow DCGAN tutorial (a Dense projection to 7x7, then two
    /// stride-2 transposed convolutions, 7 -> 14 -> 28), with the paper's choices: strided
    /// convolutions instead of pooling, BatchNorm in G (not on its output) and in D (not on its
    /// input layer), ReLU in G with tanh output, LeakyReLU(`negativeSlope`, 0.2) in D, and
    /// weights drawn from N(0, 0.02) (BatchNorm γ from N(1, 0.02)), biases 0.
    ///
    /// With `g = config.generatorHidden`, `d = config.discriminatorHidden` (channel counts) and
    /// every convolution 4x4, stride 2, padding 1 (the kernel of pytorch/examples' DCGAN, which
    /// halves or doubles the side exactly):
    /// - G (`latentDim` -> 784 in [-1, 1]): Linear(latentDim, g0·7·7), Unflatten(g0, 7, 7),
    ///   BatchNorm2d(g0), ReLU, ConvTranspose2d(g0, g1) -> 14x14, BatchNorm2d(g1), ReLU,
    ///   ConvTranspose2d(g1, 1) -> 28x28, Tanh.
    /// - D (784 as 1x28x28 -> 1 logit): Conv2d(1, d0) -> 14x14, LeakyReLU, Conv2d(d0, d1) ->
    ///   7x7, BatchNorm2d(d1), LeakyReLU, Flatten, Linear(d1·7·7, 1).
    /// State-dict names are those of the equivalent `nn.Sequential` (G: `0.weight` Linear,
    /// `2.*` BatchNorm, `4.weight` ConvTranspose, ...; D: `0.weight` Conv, `3.*` BatchNorm,
    /// `6.weight` Linear), fed `N x 1 x 28 x 28` images by PyTorch.
    /// Weights are drawn from `rng` in layer order (weight, then BatchNorm γ).
    /// With `config.numClasses` K (a conditional DCGAN): G's Linear takes `latentDim + K`
    /// (the one-hot label joined to z, Mirza & Osindero 2014) and D's first Conv2d `1 + K`
    /// channels (the label as K constant one-hot 28x28 maps: `LabelConditioned` with
    /// `spatial` 784, the DCGAN authors' `conv_cond_concat`).
    /// - Throws: `ConfigError` for invalid settings (see `GANConfig.validate`).
    public static func dcgan(_ config: GANConfig, rng: inout Xoshiro256) throws -> GAN {
        try config.validate()
        guard config.architecture == .dcgan else { throw ConfigError("GAN.dcgan needs arch dcgan") }
        let g = config.generatorHidden, d = config.discriminatorHidden
        let leaky = Activation.leakyReLU(negativeSlope: config.negativeSlope)
        let k = config.numClasses ?? 0
        let generator = Sequential([
            Dense(inputSize: config.latentDim + k, outputSize: g[0] * 49, rng: &rng),
            Unflatten(channels: g[0], height: 7, width: 7),
            BatchNorm(channels: g[0], height: 7, width: 7),
            ActivationLayer(.relu),
            ConvTranspose2d(inChannels: g[0], outChannels: g[1], kernel: 4, stride: 2, padding: 1,
                            inputHeight: 7, inputWidth: 7, rng: &rng),
            BatchNorm(channels: g[1], height: 14, width: 14),
            ActivationLayer(.relu),
            ConvTranspose2d(inChannels: g[1], outChannels: 1, kernel: 4, stride: 2, padding: 1,
                            inputHeight: 14, inputWidth: 14, rng: &rng),
            ActivationLayer(.tanh),
        ])
        let discriminator = Sequential([
            Conv2d(inChannels: 1 + k, outChannels: d[0], kernel: 4, stride: 2, padding: 1,
                   inputHeight: 28, inputWidth: 28, rng: &rng),
            ActivationLayer(leaky),
            Conv2d(inChannels: d[0], outChannels: d[1], kernel: 4, stride: 2, padding: 1,
                   inputHeight: 14, inputWidth: 14, rng: &rng),
            BatchNorm(channels: d[1], height: 7, width: 7),
            ActivationLayer(leaky),
            Flatten(),
            Dense(inputSize: d[1] * 49, outputSize: 1, rng: &rng),
        ])
        radfordInit(generator, rng: &rng)
        radfordInit(discriminator, rng: &rng)
        return try GAN(generator: conditioned(generator, config.numClasses),
                       discriminator: conditioned(discriminator, config.numClasses, spatial: 28 * 28),
                       latentDim: config.latentDim, outputRange: -1...1)
    }

    /// Radford et al. 2016, section 4: "All weights were initialized from a zero-centered
    /// Normal distribution with standard deviation 0.02" (pytorch/examples' `weights_init`
    /// also draws BatchNorm's γ from N(1, 0.02) and zeroes β); biases are zeroed.
    static func radfordInit(_ network: Sequential, rng: inout Xoshiro256) {
        for layer in network.layers {
            let (weight, bias): (Parameter?, Parameter?)
            switch layer {
            case let l as Dense: (weight, bias) = (l.weight, l.bias)
            case let l as Conv2d: (weight, bias) = (l.weight, l.bias)
            case let l as ConvTranspose2d: (weight, bias) = (l.weight, l.bias)
            case let l as BatchNorm:
                l.weight.value = .normal(rows: 1, cols: l.channels, mean: 1, std: 0.02, using: &rng)
                l.bias.value.fill(0)
                continue
            default: continue
            }
            if let w = weight { w.value = .normal(rows: w.value.rows, cols: w.value.cols, std: 0.02, using: &rng) }
            bias?.value.fill(0)
        }
    }
}
