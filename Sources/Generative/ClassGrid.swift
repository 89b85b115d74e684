import Linalg

/// Inputs of a class grid (the figure of Mirza & Osindero 2014, fig. 2): one row per class,
/// the same noise vectors across rows, so a column shows one "style" across classes.
public enum ClassGrid {
    /// For `noise` (`columns x latentDim`) and `classes` K: the `K·columns` latent rows (row-major:
    /// class 0's columns first) and their labels.
    public static func inputs(noise: Matrix, classes: Int) -> (z: Matrix, labels: [Int32]) {
        var z = Matrix(rows: classes * noise.rows, cols: noise.cols)
        var labels: [Int32] = []
        labels.reserveCapacity(z.rows)
        for c in 0..<classes {
            z.setRows(noise, at: c * noise.rows)
            labels += Array(repeating: Int32(c), count: noise.rows)
        }
        return (z, labels)
    }
}

extension GAN {
    /// A class grid of a conditional GAN: `numClasses · noise.rows` samples (class 0's row
    /// first, `noise.rows` columns per row), in `outputRange`.
    /// - Precondition: the GAN is conditional; `noise` is `columns x latentDim`.
    public func classGrid(noise: Matrix) -> Matrix {
        precondition(numClasses != nil, "GAN.classGrid: an unconditional GAN")
        let (z, labels) = ClassGrid.inputs(noise: noise, classes: numClasses!)
        return generate(z, labels: labels)
    }
}

extension VAE {
    /// A class grid of a conditional VAE: `noise` (`columns x latentDim`, N(0, I) draws, mapped
    /// through each class's prior: `priorLatents`) decoded with every class, class 0's row
    /// first; Bernoulli means in [0, 1].
    /// - Precondition: the VAE is conditional.
    public func classGrid(noise: Matrix) -> Matrix {
        precondition(numClasses != nil, "VAE.classGrid: an unconditional VAE")
        let (z, labels) = ClassGrid.inputs(noise: noise, classes: numClasses!)
        return decode(priorLatents(z, labels: labels), labels: labels)
    }

    /// Analogies (Kingma et al. 2014, "Semi-supervised learning with deep generative models",
    /// fig. 1; Sohn et al. 2015): each image of `x` (with its `labels`) is encoded to its
    /// posterior mean — its "style" — and decoded with every class. Returns `n·(1 + K)` rows:
    /// per image, the original then its K decodings, in [0, 1] (`x` must be in [0, 1]).
    /// - Precondition: the VAE is conditional; `labels` has one valid class per row of `x`.
    public func analogies(_ x: Matrix, labels: [Int32]) -> Matrix {
        precondition(numClasses != nil, "VAE.analogies: an unconditional VAE")
        let k = numClasses!
        let mu = encode(x, labels: labels).mu
        let (z, classes) = ClassGrid.inputs(noise: mu, classes: k)   // class-major
        let decoded = decode(z, labels: classes)
        var out = Matrix(rows: x.rows * (1 + k), cols: x.cols)
        for i in 0..<x.rows {
            out.setRows(x.row(i), at: i * (1 + k))
            for c in 0..<k { out.setRows(decoded.row(c * x.rows + i), at: i * (1 + k) + 1 + c) }
        }
        return out
    }
}
