import Foundation

/// How a set of samples spreads over a classifier's classes: the predicted-class histogram, the
/// number of classes holding at least `threshold` of the samples, and the KL divergence of the
/// histogram from the uniform distribution, `KL(p || u) = Σ p_c log(p_c · C)` in nats
/// (0 when all classes are equally frequent, `log C` when all samples fall in one class).
/// A common check for GAN mode collapse (e.g. Srivastava et al. 2017, VEEGAN, on stacked MNIST).
public struct ModeCoverage: Sendable, Equatable, Codable {
    /// Samples per predicted class, `classes` entries.
    public let histogram: [Int]
    /// The share of samples a class needs to count as covered (default 0.01).
    public let threshold: Double
    /// Classes holding at least `threshold` of the samples.
    public let classesCovered: Int
    /// `KL(histogram / n || uniform)` in nats.
    public let klFromUniform: Double

    /// Coverage from predicted classes (each in `0..<classes`).
    /// - Precondition: every prediction is in `0..<classes`; `classes > 0`.
    public init(predictions: [Int], classes: Int, threshold: Double = 0.01) {
        precondition(classes > 0, "ModeCoverage: no classes")
        var h = [Int](repeating: 0, count: classes)
        for p in predictions {
            precondition(p >= 0 && p < classes, "ModeCoverage: class \(p) not in 0..<\(classes)")
            h[p] += 1
        }
        self.init(histogram: h, threshold: threshold)
    }

    /// Coverage from a histogram of counts.
    public init(histogram: [Int], threshold: Double = 0.01) {
        self.histogram = histogram
        self.threshold = threshold
        let n = Double(histogram.reduce(0, +))
        let c = Double(histogram.count)
        var covered = 0, kl = 0.0
        for k in histogram {
            let p = n > 0 ? Double(k) / n : 0
            if n > 0 && p >= threshold { covered += 1 }
            if p > 0 { kl += p * Foundation.log(p * c) }
        }
        classesCovered = covered
        klFromUniform = kl
    }

    /// True when fewer than all classes are covered.
    public var isModeCollapse: Bool { classesCovered < histogram.count }
}
