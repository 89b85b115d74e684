import Foundation
import Linalg
import NN

/// Per-sample losses of a VAE in nats: the negative ELBO and its two parts
/// (Kingma & Welling 2014, eq. 10: `-ELBO = E_q[-log p(x|z)] + KL(q(z|x) || p(z))`).
public struct VAELosses: Sendable, Equatable {
    /// Reconstruction term: Bernoulli negative log-likelihood (BCE with logits), or the
    /// Gaussian one for `VAELikelihood.gaussian`, summed over the values, averaged over the batch.
    public var reconstruction: Float
    /// `KL(N(mu, exp(logvar)) || N(0, I))` summed over latent dimensions, averaged over the batch.
    public var kl: Float
    /// `reconstruction + kl`, the negative ELBO per sample.
    public var negativeELBO: Float { reconstruction + kl }

    public init(reconstruction: Float, kl: Float) {
        self.reconstruction = reconstruction
        self.kl = kl
    }
}

/// A variational autoencoder with a Gaussian encoder and a Bernoulli decoder (Kingma &
/// Welling 2014, appendix C), over any networks.
///
/// Encoder: `x (batch x dataDim)` -> `h`; two heads map `h` to `mu` and `logvar`
/// (`batch x latentDim` each). Reparameterisation: `z = mu + exp(0.5 * logvar) * eps`,
/// `eps ~ N(0, I)`. Decoder: `z` -> pixel logits (`batch x dataDim`); `sigmoid(logits)` is the
/// Bernoulli mean, so outputs lie in `outputRange` = [0, 1]. The model owns its forward and
/// backward pass and its negative ELBO (`negativeELBO`, `backwardNegativeELBO`), which both
/// training and evaluation (IWAE) use. All parameters' gradients live in one contiguous buffer
/// (`parameterGroup`). Factories build the standard networks: `VAE.mlp(_:rng:)`, `VAE.conv(_:rng:)`.
public final class VAE {
    public let encoder: any Layer
    public let muHead: any Layer
    public let logvarHead: any Layer
    public let decoder: any Layer
    public let dataDim: Int
    public let latentDim: Int
    /// The range of `decode`'s outputs (Bernoulli means; a Gaussian decoder's means are meant
    /// to lie there too): data is scaled to it.
    public let outputRange: ClosedRange<Float> = 0...1
    /// The decoder's distribution: with `.gaussian` the decoder gives `2 x dataDim` values per
    /// sample, `[mean | logvar]`.
    public let likelihood: VAELikelihood
    /// Every parameter (encoder, mu head, logvar head, decoder) and their contiguous gradients.
    public let parameterGroup: ParameterGroup
    /// Work buffers of the ELBO's forward and backward pass (reused: no allocation per step).
    let work = ELBOWork()
    /// Number of classes of a conditional VAE (Sohn et al. 2015: encoder and decoder both
    /// `LabelConditioned`), or nil.
    public let numClasses: Int?
    let encoderLabels: LabelConditioned?
    let decoderLabels: LabelConditioned?
    /// The learned conditional prior `p(z | y) = N(priorMu(y), diag exp(priorLogvar(y)))` of a
    /// conditional VAE (the "prior network" of Sohn et al. 2015, section 4.1), each a
    /// `LabelConditioned` network of the label alone (its `x` has 0 columns), or nil for the
    /// fixed prior N(0, I). See `VAE.classPrior`.
    public let priorMu: LabelConditioned?
    public let priorLogvar: LabelConditioned?

    /// A VAE over the given networks.
    /// A conditional VAE has its encoder and decoder `LabelConditioned` with the same classes
    /// (sizes are then those of `x` and `z` alone).
    /// - Throws: `ConfigError` when the sizes do not chain: the heads must map the encoder's
    ///   output to the same latent size, and the decoder must map it back to `dataDim`; or
    ///   only one of encoder and decoder is conditional, or their classes differ, or a
    ///   `prior` is given to an unconditional VAE or does not map the label to the latent size.
    public init(encoder: any Layer, muHead: any Layer, logvarHead: any Layer, decoder: any Layer,
                dataDim: Int, prior: (mu: LabelConditioned, logvar: LabelConditioned)? = nil,
                likelihood: VAELikelihood = .bernoulli) throws {
        encoderLabels = encoder as? LabelConditioned
        decoderLabels = decoder as? LabelConditioned
        guard encoderLabels?.numClasses == decoderLabels?.numClasses else {
            throw ConfigError("a conditional VAE needs encoder and decoder LabelConditioned with the same classes")
        }
        numClasses = encoderLabels?.numClasses
        guard dataDim >= 1, let h = encoder.outputFeatures(for: dataDim) else {
            throw ConfigError("the encoder does not take \(dataDim) values")
        }
        guard let latent = muHead.outputFeatures(for: h), latent == logvarHead.outputFeatures(for: h) else {
            throw ConfigError("the mu and logvar heads must map the encoder's \(h) outputs to one latent size")
        }
        let outputs = likelihood == .gaussian ? 2 * dataDim : dataDim
        guard decoder.outputFeatures(for: latent) == outputs else {
            throw ConfigError("the decoder must map \(latent) latent values to \(outputs)" + (likelihood == .gaussian ? " (mean and logvar of each value)" : ""))
        }
        self.likelihood = likelihood
        if let prior {
            guard let k = encoderLabels?.numClasses, prior.mu.numClasses == k, prior.logvar.numClasses == k,
                  prior.mu.outputFeatures(for: 0) == latent, prior.logvar.outputFeatures(for: 0) == latent else {
                throw ConfigError("a learned prior needs a conditional VAE and maps its label to \(latent) latent values")
            }
            prior.mu.computesInputGradient = false
            prior.logvar.computesInputGradient = false
        }
        priorMu = prior?.mu
        priorLogvar = prior?.logvar
        self.encoder = encoder
        self.muHead = muHead
        self.logvarHead = logvarHead
        self.decoder = decoder
        self.dataDim = dataDim
        latentDim = latent
        let priorLayers: [(String, any Layer)] = prior.map { [("prior_mu.", $0.mu), ("prior_logvar.", $0.logvar)] } ?? []
        parameterGroup = ParameterGroup([("encoder.", encoder), ("mu.", muHead),
                                         ("logvar.", logvarHead), ("decoder.", decoder)] + priorLayers)
        // Nobody needs dLoss/dx of the data: skip that gemm.
        encoder.computesInputGradient = false
    }

    /// The MLP VAE of `config` (PyTorch's `nn.Linear` default initialisation, from `rng`):
    /// encoder Dense + ReLU per `hidden` width; heads Dense to `latentDim` (each a one-module
    /// `Sequential`, so their state-dict names are `mu.0.weight`, ...); decoder Dense + ReLU per
    /// mirrored width, then Dense to `dataDim` logits (`2 x dataDim`, mean and logvar, for the
    /// Gaussian `config.likelihood`). With `config.numClasses` K, the
    /// conditional VAE of Sohn et al. 2015: the one-hot label joined to x (encoder input
    /// `dataDim + K`) and to z (decoder input `latentDim + K`), `LabelConditioned`.
    /// - Throws: `ConfigError` for invalid settings.
    public static func mlp(_ config: VAEConfig, rng: inout Xoshiro256) throws -> VAE {
        try config.validate()
        guard config.architecture == .mlp else { throw ConfigError("VAE.mlp needs arch mlp, got \(config.architecture.rawValue)") }
        let k = config.numClasses ?? 0
        let encoder = Sequential.mlp(sizes: [config.dataDim + k] + config.hidden, hidden: .relu, output: .relu, rng: &rng)
        let width = config.hidden.last ?? config.dataDim + k
        let mu = Sequential([Dense(inputSize: width, outputSize: config.latentDim, rng: &rng)])
        let logvar = Sequential([Dense(inputSize: width, outputSize: config.latentDim, rng: &rng)])
        let outputs = config.decoderLikelihood == .gaussian ? 2 * config.dataDim : config.dataDim
        let decoder = Sequential.mlp(sizes: [config.latentDim + k] + config.hidden.reversed() + [outputs],
                                     hidden: .relu, output: .identity, rng: &rng)
        return try VAE(encoder: conditioned(encoder, config.numClasses), muHead: mu, logvarHead: logvar,
                       decoder: conditioned(decoder, config.numClasses), dataDim: config.dataDim,
                       prior: classPrior(config, rng: &rng), likelihood: config.decoderLikelihood)
    }

    /// The VAE of `config.architecture`: `VAE.mlp(config, rng: &rng)` or `VAE.conv(config, rng: &rng)`.
    public convenience init(config: VAEConfig, rng: inout Xoshiro256) throws {
        let m = config.architecture == .conv ? try VAE.conv(config, rng: &rng) : try VAE.mlp(config, rng: &rng)
        let prior = m.priorMu.map { ($0, m.priorLogvar!) }
        try self.init(encoder: m.encoder, muHead: m.muHead, logvarHead: m.logvarHead,
                      decoder: m.decoder, dataDim: m.dataDim, prior: prior, likelihood: m.likelihood)
    }

    /// All parameters: encoder, mu head, logvar head, decoder.
    public var parameters: [Parameter] { parameterGroup.parameters }

    /// State-dict entries: `encoder.0.weight`, `mu.0.weight`, `logvar.0.weight`,
    /// `decoder.0.weight`, … in PyTorch's layouts.
    public var stateEntries: [StateEntry] {
        prefixed(encoder.stateEntries, "encoder.") + prefixed(muHead.stateEntries, "mu.")
            + prefixed(logvarHead.stateEntries, "logvar.") + prefixed(decoder.stateEntries, "decoder.")
            + (priorMu.map { prefixed($0.stateEntries, "prior_mu.") } ?? [])
            + (priorLogvar.map { prefixed($0.stateEntries, "prior_logvar.") } ?? [])
    }

    /// Named tensors for checkpoints (see `stateEntries`).
    public func stateDict() -> [(name: String, tensor: Matrix)] { NN.stateDict(stateEntries) }

    /// Loads tensors written by `stateDict()`.
    /// - Throws: `StateDictError` on a missing, unexpected or mis-shaped tensor (naming it).
    public func loadStateDict(_ tensors: [String: Matrix]) throws {
        try NN.loadStateDict(tensors, into: stateEntries)
    }

    /// Sets the class of each row of the next passes (a conditional VAE's; see `numClasses`).
    /// - Precondition: `labels` is given exactly when the VAE is conditional, each in
    ///   `0..<numClasses` (data loading and the CLI validate them).
    public func setLabels(_ labels: [Int32]?) {
        precondition((labels == nil) == (numClasses == nil),
                     "VAE: labels \(labels == nil ? "missing for a conditional" : "given to an unconditional") VAE")
        guard let labels else { return }
        encoderLabels!.setLabels(labels)
        decoderLabels!.setLabels(labels)
        priorMu?.setLabels(labels)
        priorLogvar?.setLabels(labels)
    }

    /// Decodes latent codes `z` (`n x latentDim`) to Bernoulli means in [0, 1]
    /// (`n x dataDim`, a new matrix), of classes `labels` (n values) for a conditional VAE.
    /// Caches nothing.
    public func decode(_ z: Matrix, labels: [Int32]? = nil) -> Matrix {
        precondition((labels == nil) == (numClasses == nil), "VAE.decode: labels must be given exactly for a conditional VAE")
        if let labels { decoderLabels!.setLabels(labels) }
        var out = decoder.forward(z, training: false)
        guard likelihood == .bernoulli else { return out.columns(0..<dataDim) }
        applySigmoid(&out)
        return out
    }

    /// `n` samples from the prior: `z ~ N(0, I)` (a learned prior: `z = priorMu(y) +
    /// exp(priorLogvar(y) / 2) eps`, `priorLatents`), decoded to Bernoulli means; for a
    /// conditional VAE of classes `labels`, or when nil the classes 0, 1, ..., K-1, 0, ... in turn.
    public func sample(count n: Int, labels: [Int32]? = nil, rng: inout Xoshiro256) -> Matrix {
        let z = Matrix.normal(rows: n, cols: latentDim, using: &rng)
        guard let k = numClasses else { return decode(z) }
        let y = labels ?? cyclingLabels(count: n, classes: k)
        return decode(priorLatents(z, labels: y), labels: y)
    }

    /// The posterior mean and log-variance for `x` (`n x dataDim`, with its `labels` for a
    /// conditional VAE), each `n x latentDim`. They share the heads' buffers until either side
    /// writes (copy-on-write keeps them valid).
    public func encode(_ x: Matrix, labels: [Int32]? = nil) -> (mu: Matrix, logvar: Matrix) {
        precondition((labels == nil) == (numClasses == nil), "VAE.encode: labels must be given exactly for a conditional VAE")
        if let labels { encoderLabels!.setLabels(labels) }
        let h = encoder.forward(x, training: false)
        return (muHead.forward(h, training: false), logvarHead.forward(h, training: false))
    }

    /// Reconstructions of `x`: decode the posterior mean (no sampling), Bernoulli means in [0, 1].
    public func reconstruct(_ x: Matrix, labels: [Int32]? = nil) -> Matrix {
        decode(encode(x, labels: labels).mu, labels: labels)
    }
}

extension Matrix {
    /// Columns `range` of every row, as a new matrix.
    func columns(_ range: Range<Int>) -> Matrix {
        var out = Matrix(rows: rows, cols: range.count)
        for r in 0..<rows { for (k, c) in range.enumerated() { out[r, k] = self[r, c] } }
        return out
    }
}

/// In-place logistic sigmoid with Linalg's `fastSigmoid` (finite for any input, NaN propagates).
func applySigmoid(_ m: inout Matrix) {
    m.withUnsafeMutableBufferPointer { p in
        for i in 0..<p.count { p[i] = fastSigmoid(p[i]) }
    }
}
