import Foundation
import Linalg
import NN

/// A generative adversarial network (Goodfellow et al. 2014) over any two networks.
///
/// Generator: `z (batch x latentDim)` -> `batch x dataDim` samples in `outputRange`.
/// Discriminator: `x (batch x dataDim)` -> one logit per sample (`batch x 1`); the sigmoid is
/// applied inside the loss (BCE with logits), and the WGAN critic uses the raw score. Each
/// network's gradients live in one contiguous buffer (`generatorParameters`,
/// `discriminatorParameters`). Factories build the standard networks: `GAN.mlp(_:rng:)`,
/// `GAN.dcgan(_:rng:)`.
public final class GAN {
    public let generator: any Layer
    public let discriminator: any Layer
    /// Size of the noise vector z.
    public let latentDim: Int
    /// Size of one sample.
    public let dataDim: Int
    /// The range of the generator's outputs (its final activation's; tanh: -1...1). Data is
    /// scaled to it for training, and samples are mapped back from it.
    public let outputRange: ClosedRange<Float>
    /// The generator's parameters and their contiguous gradients.
    public let generatorParameters: ParameterGroup
    /// The discriminator's parameters and their contiguous gradients.
    public let discriminatorParameters: ParameterGroup
    /// The moving average of the generator's parameters that `generate` and `sample` use, once
    /// `averageGenerator(decay:)` has started it; trainers update it after every generator
    /// step. nil: samples come from the trained weights.
    public private(set) var generatorAverage: ParameterAverage?
    /// Number of classes of a conditional GAN (both networks are `LabelConditioned`), or nil.
    public let numClasses: Int?
    private let generatorLabels: LabelConditioned?
    private let discriminatorLabels: LabelConditioned?

    /// A GAN over `generator` (`latentDim` -> `dataDim`) and `discriminator` (`dataDim` -> 1).
    /// A conditional GAN has both networks `LabelConditioned` with the same number of classes
    /// (sizes are then those of `z` and `x` alone: the wrappers add the label values).
    /// - Throws: `ConfigError` when the networks' sizes do not chain (the generator's output
    ///   for `latentDim` inputs must be the discriminator's input, and D must give one value),
    ///   or only one network is conditional, or their numbers of classes differ.
    public init(generator: any Layer, discriminator: any Layer, latentDim: Int,
                outputRange: ClosedRange<Float> = -1...1) throws {
        generatorLabels = generator as? LabelConditioned
        discriminatorLabels = discriminator as? LabelConditioned
        guard generatorLabels?.numClasses == discriminatorLabels?.numClasses else {
            throw ConfigError("a conditional GAN needs both networks LabelConditioned with the same classes, got "
                + "\(generatorLabels?.numClasses.description ?? "none") and \(discriminatorLabels?.numClasses.description ?? "none")")
        }
        numClasses = generatorLabels?.numClasses
        guard latentDim >= 1, let dataDim = generator.outputFeatures(for: latentDim) else {
            throw ConfigError("the generator does not take \(latentDim) latent values")
        }
        guard discriminator.outputFeatures(for: dataDim) == 1 else {
            throw ConfigError("the discriminator must map \(dataDim) values to 1 logit")
        }
        self.generator = generator
        self.discriminator = discriminator
        self.latentDim = latentDim
        self.dataDim = dataDim
        self.outputRange = outputRange
        generatorParameters = ParameterGroup(generator)
        discriminatorParameters = ParameterGroup(discriminator)
        // Nobody needs dLoss/dz: skip that gemm.
        generator.computesInputGradient = false
    }

    /// The MLP GAN of `config` (PyTorch's `nn.Linear` default initialisation, from `rng`):
    /// G `latentDim` -> Dense + LeakyReLU per `generatorHidden` width -> Dense -> tanh;
    /// D `dataDim` -> Dense + LeakyReLU per `discriminatorHidden` width -> Dense -> 1 logit.
    /// With `config.numClasses` K, the conditional GAN of Mirza & Osindero 2014: both
    /// networks `LabelConditioned` (the one-hot label joined to z and to x: first layers
    /// `latentDim + K` and `dataDim + K` wide).
    /// - Throws: `ConfigError` for invalid settings.
    public static func mlp(_ config: GANConfig, rng: inout Xoshiro256) throws -> GAN {
        try config.validate()
        guard config.architecture == .mlp else { throw ConfigError("GAN.mlp needs arch mlp, got \(config.architecture.rawValue)") }
        let act = Activation.leakyReLU(negativeSlope: config.negativeSlope)
        let k = config.numClasses ?? 0
        let g = Sequential.mlp(sizes: [config.latentDim + k] + config.generatorHidden + [config.dataDim],
                               hidden: act, output: .tanh, rng: &rng)
        let d = Sequential.mlp(sizes: [config.dataDim + k] + config.discriminatorHidden + [1],
                               hidden: act, output: .identity, rng: &rng)
        return try GAN(generator: conditioned(g, config.numClasses), discriminator: conditioned(d, config.numClasses),
                       latentDim: config.latentDim, outputRange: -1...1)
    }

    /// The GAN of `config.architecture`: `GAN.mlp(config, rng: &rng)` or
    /// `GAN.dcgan(config, rng: &rng)`.
    public convenience init(config: GANConfig, rng: inout Xoshiro256) throws {
        let m = config.architecture == .dcgan ? try GAN.dcgan(config, rng: &rng) : try GAN.mlp(config, rng: &rng)
        try self.init(generator: m.generator, discriminator: m.discriminator, latentDim: m.latentDim,
                      outputRange: m.outputRange)
    }

    /// Starts an exponential moving average of the generator's parameters (`ParameterAverage`,
    /// from their current values, weight `decay` on the old average) that sampling then uses.
    /// - Precondition: `0 <= decay < 1`.
    public func averageGenerator(decay: Float) {
        generatorAverage = ParameterAverage(generatorParameters, decay: decay)
    }

    /// Generator samples for noise `z` (`n x latentDim`), `n x dataDim` in `outputRange`, from
    /// the averaged parameters when there is an average (`generatorAverage`). Caches nothing
    /// (inference: BatchNorm uses its running statistics).
    /// - Parameter labels: one class per row of `z` for a conditional GAN (nil otherwise).
    /// - Precondition: `labels` is given exactly when the GAN is conditional (`numClasses`),
    ///   with `z.rows` values in `0..<numClasses`.
    public func generate(_ z: Matrix, labels: [Int32]? = nil) -> Matrix {
        precondition((labels == nil) == (numClasses == nil),
                     "GAN.generate: labels \(labels == nil ? "missing for a conditional" : "given to an unconditional") GAN")
        if let labels { generatorLabels!.setLabels(labels) }
        guard let average = generatorAverage else { return generator.forward(z, training: false) }
        return average.withAveragedParameters { generator.forward(z, training: false) }
    }

    /// `n` samples from noise drawn from `N(0, I)` with `rng`, in `outputRange`; for a
    /// conditional GAN, of classes `labels` (n values) or, when nil, of the classes 0, 1, ...,
    /// K-1, 0, 1, ... in turn (equal numbers of each class when K divides n).
    public func sample(count n: Int, labels: [Int32]? = nil, rng: inout Xoshiro256) -> Matrix {
        let z = Matrix.normal(rows: n, cols: latentDim, using: &rng)
        guard let k = numClasses else { return generate(z) }
        return generate(z, labels: labels ?? cyclingLabels(count: n, classes: k))
    }

    /// Sets the class of each row of the next training passes (the trainer's): `labels` for
    /// G and for D's passes on B rows, repeated twice for D's stacked `[real; fake]` pass.
    func setTrainingLabels(_ labels: [Int32], discriminatorRows: Int) {
        let b = labels.count
        generatorLabels?.setLabels(labels)
        discriminatorLabels?.setLabels(count: discriminatorRows) { labels[$0 % b] }
    }

    /// Floating-point operations of one generator and one discriminator forward pass per sample.
    public var forwardFLOPsPerSample: (generator: Int, discriminator: Int) {
        (generator.forwardFLOPsPerSample, discriminator.forwardFLOPsPerSample)
    }
}

/// `network` wrapped as `LabelConditioned` with `classes` (one-hot repeated `spatial` times),
/// or `network` itself when `classes` is nil.
func conditioned(_ network: any Layer, _ classes: Int?, spatial: Int = 1) -> any Layer {
    guard let classes else { return network }
    return LabelConditioned(network, numClasses: classes, spatial: spatial)
}
