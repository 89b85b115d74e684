import NN

/// The objective of the GAN minimax game.
public enum GANLoss: String, Codable, Sendable, CaseIterable {
    /// Goodfellow et al. 2014, eq. 1, for both players: D maximises
    /// `log D(x) + log(1 - D(G(z)))`, G minimises `log(1 - D(G(z)))` (saturates early in training).
    case minimax
    /// Goodfellow et al. 2014, section 3: G maximises `log D(G(z))` instead (strong gradients
    /// early on). D's objective is unchanged. The default.
    case nonSaturating = "non-saturating"
    /// Arjovsky et al. 2017 (WGAN): a critic without sigmoid, critic loss
    /// `-(E[D(x)] - E[D(G(z))])`, generator loss `-E[D(G(z))]`. The critic is kept (roughly)
    /// 1-Lipschitz either by a gradient penalty (WGAN-GP, Gulrajani et al. 2017: `GANConfig.
    /// gradientPenalty` set, the default of `GANConfig.standard(loss: .wasserstein)`) or by the
    /// original weight clipping to `[-c, c]` after every critic step (`gradientPenalty` nil,
    /// `GANConfig.wassersteinClipping()`).
    case wasserstein
}

/// The optimiser used for both players.
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    case adam, rmsprop, sgd
}

/// The network family of a GAN (`GANConfig.arch`).
public enum GANArchitecture: String, Codable, Sendable, CaseIterable {
    /// Dense layers (`GAN.mlp`): `generatorHidden`/`discriminatorHidden` are layer widths.
    case mlp
    /// The convolutional DCGAN for 28x28 images (`GAN.dcgan`): the hidden lists are channel
    /// counts (G at 7x7 then 14x14, D at 14x14 then 7x7).
    case dcgan
}

/// How the learning rate of both players changes over a run (`GANConfig.lrSchedule`).
public enum GANLearningRateSchedule: String, Codable, Sendable, CaseIterable {
    /// The same rate every epoch.
    case constant
    /// Cosine annealing to 0 over the run's epochs (`CosineAnnealing`; PyTorch's
    /// `CosineAnnealingLR` with `T_max` = epochs, stepped once per epoch).
    case cosine
}

/// Architecture and training settings of a GAN. Codable: it is saved in `config.json`
/// and in checkpoint metadata, so a checkpoint describes its own architecture.
public struct GANConfig: Codable, Sendable, Equatable {
    /// The network family; nil (absent from a decoded file, as in every file written before
    /// this field existed, and left nil by the MLP factories so their `config.json` is
    /// unchanged) means `.mlp`. Read it through `architecture`.
    public var arch: GANArchitecture?
    /// `arch`, with nil read as `.mlp`.
    public var architecture: GANArchitecture { arch ?? .mlp }
    /// Size of the noise vector z (columns of the generator's input).
    public var latentDim: Int = 100
    /// Size of one data sample (784 for 28x28 MNIST).
    public var dataDim: Int = 784
    /// Hidden layer widths of the generator, input side first.
    public var generatorHidden: [Int] = [128]
    /// Hidden layer widths of the discriminator, input side first.
    public var discriminatorHidden: [Int] = [128]
    /// Negative slope of the LeakyReLU hidden activations (0.01 in the article).
    public var negativeSlope: Float = 0.01
    public var loss: GANLoss = .nonSaturating
    public var optimizer: OptimizerKind = .adam
    /// Learning rate of both players. 1e-3 rather than DCGAN's 2e-4: with this small MLP
    /// (G 100-128-784) it gives FID 42-45 against 57.3 for 2e-4 after 30 epochs (seed 1,
    /// measured with `gen eval`), and visibly sharper digits.
    public var learningRate: Float = 1e-3
    /// The learning-rate schedule of both players; nil (absent from files written before this
    /// field existed, and left nil by the MLP factories so their `config.json` is unchanged)
    /// means `.constant`. The run's epochs set the cosine's period (`GANJob`).
    public var lrSchedule: GANLearningRateSchedule?
    /// Decay of the exponential moving average of the generator's parameters that samples and
    /// evaluation use (`GAN.averageGenerator(decay:)`, started by `GANJob`, not by
    /// `GAN(config:rng:)`; updated after every generator step);
    /// nil (absent from files written before this field existed, and left nil by the MLP
    /// factories so their `config.json` is unchanged): no average, samples come from the
    /// trained weights.
    public var emaDecay: Float?
    /// Adam's beta1 (0.5 as in Radford et al. 2016, DCGAN) and beta2.
    public var beta1: Float = 0.5
    public var beta2: Float = 0.999
    /// Discriminator (critic) updates per generator update.
    public var criticSteps: Int = 1
    /// Weight clipping bound c of the WGAN critic; used only with `.wasserstein` and no
    /// `gradientPenalty`.
    public var clipValue: Float = 0.01
    /// λ of the WGAN-GP gradient penalty `λ E[(‖∇_x̂ D(x̂)‖₂ - 1)²]` (Gulrajani et al. 2017;
    /// see `GradientPenalty`), replacing weight clipping; `.wasserstein` only. nil: no penalty,
    /// so a WGAN clips its critic's weights to `clipValue`.
    ///
    /// Optional, and nil when absent from a decoded `config.json`: files written before this
    /// field existed decode, and one with `loss: wasserstein` keeps meaning what it meant when
    /// it was written (the clipping WGAN, whose checkpoints were trained that way), so resuming
    /// such a run continues the same algorithm. Only `standard(loss: .wasserstein)` chooses
    /// the penalty for new runs.
    public var gradientPenalty: Float?
    /// Number of classes of a conditional GAN (labels `0..<numClasses` joined to z and to x;
    /// see `GAN.mlp`, `GAN.dcgan`, `LabelConditioned`); nil (absent from files written before
    /// this field existed): unconditional. Saved in `config.json` and checkpoint metadata, so
    /// a checkpoint says whether its model needs a label.
    public var numClasses: Int?
    /// SGD momentum (`optimizer: .sgd` only; nil: none). Adam uses `beta1`/`beta2`, RMSprop
    /// its defaults.
    public var momentum: Float?

    public init() {}

    /// The article's GAN (G 100-128-784, D 784-128-1, LeakyReLU 0.01) with `loss`; for
    /// `.wasserstein` WGAN-GP with the settings of Gulrajani et al. 2017, Algorithm 1 — λ = 10,
    /// 5 critic steps, Adam(lr 1e-4, β1 0, β2 0.9) — and a larger critic, D 784-256-128-1 with
    /// LeakyReLU 0.2 (the generator stays G 100-128-784, with slope 0.2).
    ///
    /// Why the critic differs (measured on MNIST, seed 1, `gen eval`, release build, 2 cores):
    /// with the article's D 784-128-1 the critic ends up linear on the data (every hidden unit
    /// on one side of its kink for all inputs: critic(x) = critic(G(z)), penalty ≈ 0, a
    /// stationary point once G matches the data mean) and G makes mean-digit blobs: FID 653
    /// after 30 epochs (645 with slope 0.2), 345 after 100. D 784-256-128-1 with slope 0.2:
    /// FID 105 after 20 epochs, 50.1 after 30 (10 of 10 classes, 86 s); D 784-512-256-1: 54.6
    /// after 30 epochs but 2x slower. See `suggestedEpochs`.
    public static func standard(loss: GANLoss = .nonSaturating) -> GANConfig {
        var c = GANConfig()
        c.loss = loss
        if loss == .wasserstein {
            c.discriminatorHidden = [256, 128]
            c.negativeSlope = 0.2
            c.optimizer = .adam
            c.learningRate = 1e-4
            c.beta1 = 0
            c.beta2 = 0.9
            c.criticSteps = 5
            c.gradientPenalty = 10
        }
        return c
    }

    /// The original WGAN (Arjovsky et al. 2017, Algorithm 1) on the article's MLP: critic
    /// weights clipped to [-0.01, 0.01], RMSprop(5e-5), 5 critic steps. Kept for fidelity to
    /// the paper: on this MLP it does not learn MNIST (FID 650 after 30 epochs).
    public static func wassersteinClipping() -> GANConfig {
        var c = GANConfig()
        c.loss = .wasserstein
        c.optimizer = .rmsprop
        c.learningRate = 5e-5
        c.criticSteps = 5
        return c
    }

    /// Suggested number of epochs (passes over 60,000 MNIST images) for this configuration: 30
    /// for the standard GAN (FID 42-45) and for `standard(loss: .wasserstein)` (WGAN-GP: FID 50
    /// with 10 of 10 classes after 30 epochs, 105 after 20; see `standard(loss:)`). Not stored:
    /// a run's `config.json` records the epochs it used. The DCGAN: 14, FID 19.2 with `gen eval`
    /// (seed 1; 23.9 after 10 epochs, 18.9 after 16), about 27 minutes on 2 cores (see `dcgan()`).
    public var suggestedEpochs: Int { architecture == .dcgan ? 14 : 30 }

    /// Suggested mini-batch size: 128, and 64 for the DCGAN (twice the updates per epoch: FID
    /// 60.9 after one epoch against 73.9 with batch 128, seed 1, at about the same samples/s; see
    /// `dcgan()`). Not stored: a run's `config.json` records the batch size it used.
    public var suggestedBatchSize: Int { architecture == .dcgan ? 64 : 128 }

    /// The DCGAN of `GAN.dcgan` (Radford et al. 2016 adapted to 28x28, see there) with its
    /// training settings: G channels 128 (7x7) and 64 (14x14), D channels 64 (14x14) and 128
    /// (7x7), LeakyReLU 0.2 in D, non-saturating loss, Adam beta1 0.5 (the paper's) and lr 5e-4
    /// rather than the paper's 2e-4, with batch 64 (`suggestedBatchSize`).
    ///
    /// Measured (MNIST, seed 1, FID from `--eval-every 1`, 2 cores): lr 2e-4 gives FID 60.9,
    /// 49.1, 43.5, 39.9, 40.8 after epochs 1-5 (batch 64; 73.9, 58.1 after epochs 1-2 with batch
    /// 128); lr 5e-4 gives 49.9 after one epoch. Narrower channels (G 64, 32; D 32, 64) run
    /// about 2.5x faster per sample but reach only FID 63.3, 62.4 after epochs 1-2. Samples
    /// come from a moving average of G's weights (`emaDecay` 0.999): FID 26.8, 25.4, 25.7 after
    /// epochs 7-9 against 32.9, 28.9, 24.3 sampling the trained weights (seed 1; `gen train
    /// --eval-every 1`): less noise from one epoch to the next.
    public static func dcgan() -> GANConfig {
        var c = GANConfig()
        c.arch = .dcgan
        c.generatorHidden = [128, 64]
        c.discriminatorHidden = [64, 128]
        c.negativeSlope = 0.2
        c.learningRate = 5e-4
        c.emaDecay = 0.999
        return c
    }

    /// The larger benchmark GAN: G 100-256-512-1024-784, D 784-512-256-1, LeakyReLU 0.2.
    public static func large() -> GANConfig {
        var c = GANConfig()
        c.generatorHidden = [256, 512, 1024]
        c.discriminatorHidden = [512, 256]
        c.negativeSlope = 0.2
        return c
    }

    /// The optimiser of `optimizer` over `parameters` with this configuration's learning rate
    /// (Adam: `beta1`, `beta2`; RMSprop: alpha 0.99, eps 1e-8; SGD: `momentum`).
    public func makeOptimizer(_ parameters: [Parameter]) -> Optimizer {
        switch optimizer {
        case .adam: return Adam(parameters: parameters, learningRate: learningRate, beta1: beta1, beta2: beta2)
        case .rmsprop: return RMSprop(parameters: parameters, learningRate: learningRate)
        case .sgd: return SGD(parameters: parameters, learningRate: learningRate, momentum: momentum ?? 0)
        }
    }

    /// Checks the settings; throws `ConfigError` naming the first bad field.
    public func validate() throws {
        if latentDim < 1 { throw ConfigError("latent-dim must be at least 1, got \(latentDim)") }
        if dataDim < 1 { throw ConfigError("data dimension must be at least 1, got \(dataDim)") }
        if let h = (generatorHidden + discriminatorHidden).first(where: { $0 < 1 }) {
            throw ConfigError("hidden sizes must be at least 1, got \(h)")
        }
        if !(learningRate > 0) || !learningRate.isFinite {
            throw ConfigError("lr must be a positive number, got \(learningRate)")
        }
        if !(beta1 >= 0 && beta1 < 1) { throw ConfigError("beta1 must be in [0, 1), got \(beta1)") }
        if !(beta2 >= 0 && beta2 < 1) { throw ConfigError("beta2 must be in [0, 1), got \(beta2)") }
        if criticSteps < 1 { throw ConfigError("critic steps must be at least 1, got \(criticSteps)") }
        if !(clipValue > 0) { throw ConfigError("clip value must be positive, got \(clipValue)") }
        if let l = gradientPenalty {
            if loss != .wasserstein {
                throw ConfigError("gradient penalty applies to the wasserstein loss only, not \(loss.rawValue)")
            }
            if !(l > 0) || !l.isFinite { throw ConfigError("gradient penalty must be a positive number, got \(l)") }
        }
        if let m = momentum, !(m >= 0 && m < 1) { throw ConfigError("momentum must be in [0, 1), got \(m)") }
        if let k = numClasses, k < 2 { throw ConfigError("a conditional model needs at least 2 classes, got \(k)") }
        if let d = emaDecay, !(d > 0 && d < 1) { throw ConfigError("ema decay must be in (0, 1), got \(d)") }
        if architecture == .dcgan {
            if dataDim != 784 { throw ConfigError("the dcgan architecture needs 28x28 images (784 values), got \(dataDim)") }
            if generatorHidden.count != 2 || discriminatorHidden.count != 2 {
                throw ConfigError("the dcgan architecture needs two channel counts per network, got generator "
                    + "\(generatorHidden) and discriminator \(discriminatorHidden)")
            }
            if gradientPenalty != nil {
                throw ConfigError("the dcgan discriminator has BatchNorm: no gradient penalty (use --loss non-saturating or minimax)")
            }
        }
    }
}

/// An invalid model or training setting; the message names the setting.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
