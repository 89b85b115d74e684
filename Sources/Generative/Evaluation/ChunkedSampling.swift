import Linalg

/// `count` samples from a model, generated in chunks of at most `chunk` rows (so the model's
/// activations stay `chunk` rows for any `count`) and mapped from the model's `outputRange` to
/// [0, 1], the classifier's input range: a tanh GAN's [-1, 1] becomes `(x + 1) / 2`, a VAE's
/// Bernoulli means (already [0, 1]) are left as they are.
///
/// `sample(n, &rng)` must return `n x d` samples (the same `d` every call), drawing its noise
/// from `rng`; the chunks are drawn in order from the one generator, so the result depends on
/// `chunk` only through the model's own batching.
/// - Returns: `count x d` samples in [0, 1] (`0 x 0` when `count == 0`).
/// - Precondition: `count >= 0`, `chunk >= 1`; every chunk has the first one's width.
public func sampleInChunks(count: Int, outputRange: ClosedRange<Float>, chunk: Int = 1000,
                           rng: inout Xoshiro256,
                           _ sample: (_ count: Int, _ rng: inout Xoshiro256) -> Matrix) -> Matrix {
    precondition(count >= 0 && chunk >= 1, "sampleInChunks: count \(count), chunk \(chunk)")
    var out = Matrix.empty
    var start = 0
    while start < count {
        let n = min(chunk, count - start)
        var part = sample(n, &rng)
        part.mapRange(from: outputRange, to: 0...1)
        if start == 0 { out = Matrix(rows: count, cols: part.cols) }
        out.setRows(part, at: start)
        start += n
    }
    return out
}
