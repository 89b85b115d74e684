import Foundation
import Linalg
import NN

/// Per-sample losses of a VAE in nats: the negative ELBO and its two parts
/// (Kingma & Welling 2014, eq. 10: `-ELBO = E_q[-log p(x|z)] + KL(q(z|x) || p(z))`).
public struct VAELosses: Sendable, Equatable {
    /// Reconstruction term: Bernoulli negative log-likelihood (BCE with logits) summed over the
    /// pixels, averaged over the batch.
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

/// An MLP variational autoencoder with a Gaussian encoder and a Bernoulli decoder
/// (Kingma & Welling 2014, appendix C).
///
/// Encoder: `x (batch x dataDim)` -> Dense + ReLU per hidden width -> two heads, `mu` and
/// `logvar` (`batch x latentDim` each). Reparameterisation: `z = mu + exp(0.5 * logvar) * eps`,
/// `eps ~ N(0, I)`. Decoder: `z` -> Dense + ReLU per hidden width (mirrored) -> Dense -> pixel
/// logits (`batch x dataDim`); `sigmoid(logits)` is the Bernoulli mean.
public final class VAE {
    public let config: VAEConfig
    public let encoder: Sequential
    public let muHead: Dense
    public let logvarHead: Dense
    public let decoder: Sequential

    /// A freshly initialised VAE (PyTorch's `nn.Linear` default) from `rng`.
    /// - Throws: `ConfigError` for invalid settings.
    public init(config: VAEConfig, rng: inout Xoshiro256) throws {
        try config.validate()
        self.config = config
        var enc: [any Layer] = []
        var width = config.dataDim
        for h in config.hidden {
            enc.append(Dense(inputSize: width, outputSize: h, activation: .relu, rng: &rng))
            width = h
        }
        encoder = Sequential(enc)
        muHead = Dense(inputSize: width, outputSize: config.latentDim, rng: &rng)
        logvarHead = Dense(inputSize: width, outputSize: config.latentDim, rng: &rng)
        var dec: [any Layer] = []
        width = config.latentDim
        for h in config.hidden.reversed() {
            dec.append(Dense(inputSize: width, outputSize: h, activation: .relu, rng: &rng))
            width = h
        }
        dec.append(Dense(inputSize: width, outputSize: config.dataDim, rng: &rng))
        decoder = Sequential(dec)
        encoder.layers.first?.computesInputGradient = false
    }

    /// All parameters: encoder, mu head, logvar head, decoder.
    public var parameters: [Parameter] {
        encoder.parameters + muHead.parameters + logvarHead.parameters + decoder.parameters
    }

    /// Named tensors for checkpoints: `encoder.0.weight`, `mu.weight`, `logvar.weight`,
    /// `decoder.0.weight`, … in PyTorch's layouts (see `Sequential.stateDict`).
    public func stateDict() -> [(name: String, tensor: Matrix)] {
        let mu = Sequential([muHead]).stateDict().map { ("mu." + $0.name, $0.tensor) }
        let lv = Sequential([logvarHead]).stateDict().map { ("logvar." + $0.name, $0.tensor) }
        return encoder.stateDict().map { ("encoder." + $0.name, $0.tensor) } + mu + lv
            + decoder.stateDict().map { ("decoder." + $0.name, $0.tensor) }
    }

    /// Loads tensors written by `stateDict()`. - Throws: on a missing, unexpected or
    /// mis-shaped tensor (the error names it).
    public func loadStateDict(_ tensors: [String: Matrix]) throws {
        func part(_ prefix: String) -> [String: Matrix] { Checkpoint.tensors(tensors, withPrefix: prefix) }
        let known = ["encoder.", "mu.", "logvar.", "decoder."]
        if let stray = tensors.keys.sorted().first(where: { k in !known.contains { k.hasPrefix($0) } }) {
            throw ConfigError("unexpected tensor '\(stray)' in a VAE checkpoint")
        }
        try encoder.loadStateDict(part("encoder."))
        try Sequential([muHead]).loadStateDict(part("mu."))
        try Sequential([logvarHead]).loadStateDict(part("logvar."))
        try decoder.loadStateDict(part("decoder."))
    }

    /// Decodes latent codes `z` (`n x latentDim`) to Bernoulli means in [0, 1]
    /// (`n x dataDim`, a new matrix). Caches nothing.
    public func decode(_ z: Matrix) -> Matrix {
        var out = decoder.forward(z, training: false)
        applySigmoid(&out)
        return out
    }

    /// `n` samples from the prior: `z ~ N(0, I)`, decoded to Bernoulli means.
    public func sample(count n: Int, rng: inout Xoshiro256) -> Matrix {
        decode(Matrix.normal(rows: n, cols: config.latentDim, using: &rng))
    }

    /// The posterior mean and log-variance for `x` (`n x dataDim`), each `n x latentDim`.
    /// They share the heads' buffers until either side writes (copy-on-write keeps them valid).
    public func encode(_ x: Matrix) -> (mu: Matrix, logvar: Matrix) {
        let h = encoder.forward(x, training: false)
        return (muHead.forward(h, training: false), logvarHead.forward(h, training: false))
    }

    /// Reconstructions of `x`: decode the posterior mean (no sampling), Bernoulli means in [0, 1].
    public func reconstruct(_ x: Matrix) -> Matrix {
        decode(encode(x).mu)
    }
}

/// In-place logistic sigmoid with Linalg's `fastSigmoid` (finite for any input, NaN propagates).
func applySigmoid(_ m: inout Matrix) {
    m.withUnsafeMutableBufferPointer { p in
        for i in 0..<p.count { p[i] = fastSigmoid(p[i]) }
    }
}
