import Linalg

/// Memorisation check: each sample's L2 distance (in pixel units, e.g. [0, 1] pixels) to its
/// nearest training image, against the same distance for held-out test images. A model that
/// copies training images has many samples closer than almost any test image is. Encodes to the
/// `memorisation` object of `gen eval`'s eval.json.
public struct Memorisation: Codable, Sendable, Equatable {
    /// Percentiles ("1", "5", ... "99"; `Memorisation.percentiles`) of sample -> nearest-train
    /// distances, linearly interpolated (`quantile`).
    public var samplePercentiles: [String: Double]
    public var sampleMean: Double
    /// Percentiles of test -> nearest-train distances (the reference distribution).
    public var testPercentiles: [String: Double]
    public var testMean: Double
    /// Fraction of samples strictly closer to the training set than the 1st percentile of
    /// test -> train distances (about 0.01 for a model that does not copy).
    public var fractionBelowTestP1: Double
    /// Histogram bin edges (`bins + 1` values, 0 to the largest distance of either set) shared
    /// by both histograms; a distance equal to the top edge falls in the last bin.
    public var histogramEdges: [Double]
    public var sampleHistogram: [Int]
    public var testHistogram: [Int]
    /// The closest samples (at most `closestCount`, closest first) and their nearest training images.
    public var closest: [Closest]

    /// A sample (row of `samples`), its nearest training image (row of `train`) and their distance.
    public struct Closest: Codable, Sendable, Equatable {
        public var sample: Int
        public var trainIndex: Int
        public var distance: Double
    }

    /// The percentiles reported, in percent.
    public static let percentiles = [1, 5, 25, 50, 75, 95, 99]

    /// Nearest neighbours (`nearestNeighbours`, exact L2) of `samples` and of `test` in `train`,
    /// all `n x d` with the same `d` (images in [0, 1] for `gen eval`).
    /// - Returns: the summary, and `pairs`, a `2c x d` matrix (`c = closest.count`): the `c`
    ///   closest samples in rows `0..<c`, their nearest training images in rows `c..<2c` (for a
    ///   picture with samples above their neighbours).
    /// - Throws: `EvaluationError.shapeMismatch` when the widths differ or a set is empty.
    public static func analyse(samples: Matrix, train: Matrix, test: Matrix, closestCount: Int = 16,
                               bins: Int = 40) throws -> (memorisation: Memorisation, pairs: Matrix) {
        guard samples.cols == train.cols, test.cols == train.cols,
              samples.rows >= 1, train.rows >= 1, test.rows >= 1, closestCount >= 0, bins >= 1 else {
            throw EvaluationError(.shapeMismatch, "memorisation: samples \(samples.rows)x\(samples.cols), train \(train.rows)x\(train.cols), test \(test.rows)x\(test.cols) (need equal widths, non-empty sets), closestCount \(closestCount), bins \(bins)")
        }
        let s = nearestNeighbours(queries: samples, references: train)
        let t = nearestNeighbours(queries: test, references: train)
        let threshold = quantile(t.distances, 0.01)
        let below = s.distances.filter { Double($0) < threshold }.count
        let top = Double(max(s.distances.max()!, t.distances.max()!))
        let order = s.distances.indices.sorted { s.distances[$0] < s.distances[$1] }.prefix(closestCount)
        let closest = order.map { Closest(sample: $0, trainIndex: s.indices[$0], distance: Double(s.distances[$0])) }
        var pairs = Matrix(rows: 2 * closest.count, cols: samples.cols)
        for (i, c) in closest.enumerated() {
            pairs.setRows(samples.row(c.sample), at: i)
            pairs.setRows(train.row(c.trainIndex), at: closest.count + i)
        }
        let summary = Memorisation(
            samplePercentiles: percentileTable(s.distances), sampleMean: mean(s.distances),
            testPercentiles: percentileTable(t.distances), testMean: mean(t.distances),
            fractionBelowTestP1: Double(below) / Double(samples.rows),
            histogramEdges: (0...bins).map { top * Double($0) / Double(bins) },
            sampleHistogram: histogram(s.distances, top: top, bins: bins),
            testHistogram: histogram(t.distances, top: top, bins: bins), closest: closest)
        return (summary, pairs)
    }

    private static func percentileTable(_ v: [Float]) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: percentiles.map { (String($0), quantile(v, Double($0) / 100)) })
    }

    private static func mean(_ v: [Float]) -> Double { v.reduce(0.0) { $0 + Double($1) } / Double(max(v.count, 1)) }

    /// Counts of `v` in `bins` equal bins over [0, top] (all in bin 0 when top is 0).
    private static func histogram(_ v: [Float], top: Double, bins: Int) -> [Int] {
        var h = [Int](repeating: 0, count: bins)
        for d in v {
            let b = top > 0 ? Int(Double(d) / top * Double(bins)) : 0
            h[min(bins - 1, b)] += 1
        }
        return h
    }
}
