import Foundation
import Linalg
import NN

extension VAE {
    /// The learned conditional prior of `config` (nil unless `config.numClasses` is set and
    /// `config.learnedPrior` is not false): `priorMu` and `priorLogvar`, each
    /// Linear(K -> latentDim) of the one-hot label (`LabelConditioned` over no other input;
    /// PyTorch: `nn.Linear(K, latent)` of `F.one_hot(y)`), weights and biases zero, so training
    /// starts from N(0, I). Sohn et al. 2015 (section 4.1) condition the prior on the input
    /// ("prior network"); here the input is the class.
    ///
    /// Why it is the default (MNIST, 10 epochs, seed 1, `gen eval`): with the fixed N(0, I) the
    /// posterior still encodes the class (a test digit's posterior sample decoded with another
    /// label is classified as that label only 60 % of the time), so prior samples of one class
    /// often look like another: label accuracy 71 % (latent 20), 82 % (latent 10), 99.6 %
    /// (latent 2, but test -ELBO 133.8).
    static func classPrior(_ config: VAEConfig, rng: inout Xoshiro256) -> (mu: LabelConditioned, logvar: LabelConditioned)? {
        guard let k = config.numClasses, config.learnedPrior != false else { return nil }
        func table() -> LabelConditioned {
            let d = Dense(inputSize: k, outputSize: config.latentDim, rng: &rng)
            d.weight.value.fill(0)
            d.bias.value.fill(0)
            return LabelConditioned(Sequential([d]), numClasses: k)
        }
        return (table(), table())
    }

    /// Latents from noise `eps` (`n x latentDim`, N(0, I) draws) for classes `labels`: `eps`
    /// itself under the fixed prior, `priorMu(y) + exp(priorLogvar(y) / 2) ⊙ eps` under a
    /// learned one (a new matrix).
    public func priorLatents(_ eps: Matrix, labels: [Int32]?) -> Matrix {
        guard let labels, let (pm, pl) = priorParameters(labels) else { return eps }
        var z = eps
        z.withUnsafeMutableBufferPointer { p in
            pm.withUnsafeBufferPointer { m in
                pl.withUnsafeBufferPointer { l in
                    for i in 0..<p.count { p[i] = m[i] + Foundation.exp(0.5 * l[i]) * p[i] }
                }
            }
        }
        return z
    }

    /// The learned prior's mean and log-variance for `labels` (`n x latentDim` each, new
    /// matrices), or nil under the fixed prior.
    func priorParameters(_ labels: [Int32]) -> (mu: Matrix, logvar: Matrix)? {
        guard let priorMu, let priorLogvar else { return nil }
        priorMu.setLabels(labels)
        priorLogvar.setLabels(labels)
        let none = Matrix(rows: labels.count, cols: 0)
        return (priorMu.forward(none, training: false), priorLogvar.forward(none, training: false))
    }
}
