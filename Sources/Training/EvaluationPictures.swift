import Datasets
import Foundation
import Generative
import Linalg

/// Figures of `gen eval`: a sample grid; latent interpolation strips (GAN: between random z;
/// VAE: between the posterior means of pairs of test images); VAE reconstructions (originals
/// above, reconstructions below); and for a VAE with a 2-D latent the manifold of Kingma &
/// Welling 2014, figure 4 (a 20 x 20 grid of z at the prior's quantiles, decoded). A conditional
/// model adds its class grid (one row per class, the same noise along each column); a
/// conditional VAE shows analogies (test digits' styles decoded with every class) instead of
/// interpolations.
public enum EvaluationPictures {
    /// Writes the figures into `dir` (which must exist) and returns their paths relative to
    /// `dir`'s parent (`eval/samples.png`, …). `samples` are `n x 784` in [0, 1] (the first 100
    /// make the grid); `test` the test images in [0, 1] (at least 48 rows for a VAE); without
    /// a model only the sample grid is written. `testLabels` (one per test image) are needed
    /// by a conditional VAE.
    /// - Throws: `DatasetError` when a file cannot be written.
    public static func write(samples: Matrix, model: LoadedModel?, test: Matrix, testLabels: [Int32]? = nil,
                             into dir: URL, seed: UInt64) throws -> [String] {
        var written: [String] = []
        func save(_ m: Matrix, _ name: String, columns: Int, range: ClosedRange<Float> = 0...1) throws {
            try PNGImage.writeGrid(m, height: 28, width: 28, columns: columns, range: range, background: 128,
                                   to: dir.appendingPathComponent(name))
            written.append("eval/" + name)
        }
        try save(samples.rows(0..<min(100, samples.rows)), "samples.png", columns: 10)
        var rng = Xoshiro256(seed: seed)
        let steps = 10
        switch model {
        case .gan(let g)?:
            // 8 strips, each from z0 to z1 in `steps` linear steps (a conditional GAN: strip s of class s).
            let z = LatentGrid.interpolations(between: Matrix.normal(rows: 16, cols: g.latentDim, using: &rng), steps: steps)
            let labels = g.numClasses.map { k in (0..<z.rows).map { Int32(($0 / steps) % k) } }
            try save(g.generate(z, labels: labels), "interpolation.png", columns: steps, range: g.outputRange)
            if g.numClasses != nil {
                try save(g.classGrid(noise: Matrix.normal(rows: 10, cols: g.latentDim, using: &rng)), "class-grid.png",
                         columns: 10, range: g.outputRange)
            }
        case .vae(let v)? where v.numClasses != nil:
            // Analogies and reconstructions need the test images' labels among the model's classes.
            if let labels = testLabels, labels.count >= 48, labels.allSatisfy({ Int($0) < v.numClasses! }) {
                try writeConditional(v, test: test, labels: labels, rng: &rng, save: save)
            } else {
                try save(v.classGrid(noise: Matrix.normal(rows: 10, cols: v.latentDim, using: &rng)), "class-grid.png", columns: 10)
            }
        case .vae(let v)?:
            // 8 strips between test images 2s and 2s+1: original, steps decoded means, original.
            let pairs = test.rows(0..<16)
            let decoded = v.decode(LatentGrid.interpolations(between: v.encode(pairs).mu, steps: steps))
            var strip = Matrix(rows: 8 * (steps + 2), cols: test.cols)
            for s in 0..<8 {
                strip.setRows(pairs.row(2 * s), at: s * (steps + 2))
                strip.setRows(decoded.rows(s * steps..<(s + 1) * steps), at: s * (steps + 2) + 1)
                strip.setRows(pairs.row(2 * s + 1), at: s * (steps + 2) + steps + 1)
            }
            try save(strip, "interpolation.png", columns: steps + 2)
            // Reconstructions: 2 blocks of 16 originals above their reconstructions.
            let originals = test.rows(16..<48)
            let recon = v.reconstruct(originals)
            var grid = Matrix(rows: 64, cols: test.cols)
            for b in 0..<2 {
                grid.setRows(originals.rows(16 * b..<16 * (b + 1)), at: 32 * b)
                grid.setRows(recon.rows(16 * b..<16 * (b + 1)), at: 32 * b + 16)
            }
            try save(grid, "reconstructions.png", columns: 16)
            if v.latentDim == 2 {
                try save(v.decode(LatentGrid.manifold(side: 20)), "manifold.png", columns: 20)
            }
        case nil:
            break
        }
        return written
    }

    /// A conditional VAE's figures: its class grid, analogies (8 test images, each followed by
    /// its posterior mean decoded with every class) and reconstructions given the labels.
    private static func writeConditional(_ v: VAE, test: Matrix, labels: [Int32], rng: inout Xoshiro256,
                                         save: (Matrix, String, Int, ClosedRange<Float>) throws -> Void) throws {
        let k = v.numClasses!
        try save(v.classGrid(noise: Matrix.normal(rows: 10, cols: v.latentDim, using: &rng)), "class-grid.png", 10, 0...1)
        try save(v.analogies(test.rows(0..<8), labels: Array(labels[0..<8])), "analogies.png", 1 + k, 0...1)
        let originals = test.rows(16..<48)
        let recon = v.reconstruct(originals, labels: Array(labels[16..<48]))
        var grid = Matrix(rows: 64, cols: test.cols)
        for b in 0..<2 {
            grid.setRows(originals.rows(16 * b..<16 * (b + 1)), at: 32 * b)
            grid.setRows(recon.rows(16 * b..<16 * (b + 1)), at: 32 * b + 16)
        }
        try save(grid, "reconstructions.png", 16, 0...1)
    }
}
