import Datasets
import Foundation
import Generative
import Linalg

/// Memorisation check: each sample's L2 distance (pixels in [0, 1]) to its nearest training
/// image, against the same distance for held-out test images. A model that copies training
/// images has many samples closer than almost any test image is.
struct Memorisation: Codable {
    /// Percentiles ("1", "5", ... "99") of sample -> nearest-train distances.
    var samplePercentiles: [String: Double]
    var sampleMean: Double
    /// Percentiles of test -> nearest-train distances (the reference distribution).
    var testPercentiles: [String: Double]
    var testMean: Double
    /// Fraction of samples closer to the training set than the 1st percentile of test -> train.
    var fractionBelowTestP1: Double
    /// Histogram bin edges (`bins + 1` values) shared by both histograms.
    var histogramEdges: [Double]
    var sampleHistogram: [Int]
    var testHistogram: [Int]
    /// Training-set indices of the 16 closest samples' neighbours and their distances.
    var closest: [Closest]

    struct Closest: Codable { var sample: Int; var trainIndex: Int; var distance: Double }

    static let percentiles = [1, 5, 25, 50, 75, 95, 99]

    /// Nearest neighbours of `samples` and of `test` in `train` (all `n x 784` in [0, 1]);
    /// writes the PNG pairing the 16 closest samples (top row) with their neighbours (below).
    static func analyse(samples: Matrix, train: Matrix, test: Matrix, picture: URL) throws -> Memorisation {
        let s = nearestNeighbours(queries: samples, references: train)
        let t = nearestNeighbours(queries: test, references: train)
        func pct(_ v: [Float]) -> [String: Double] {
            Dictionary(uniqueKeysWithValues: percentiles.map { (String($0), quantile(v, Double($0) / 100)) })
        }
        func mean(_ v: [Float]) -> Double { v.reduce(0.0) { $0 + Double($1) } / Double(max(v.count, 1)) }
        let threshold = quantile(t.distances, 0.01)
        let below = s.distances.filter { Double($0) < threshold }.count
        let top = max(s.distances.max() ?? 1, t.distances.max() ?? 1)
        let bins = 40
        let edges = (0...bins).map { Double(top) * Double($0) / Double(bins) }
        func hist(_ v: [Float]) -> [Int] {
            var h = [Int](repeating: 0, count: bins)
            for d in v { h[min(bins - 1, Int(Double(d) / Double(top) * Double(bins)))] += 1 }
            return h
        }
        let order = s.distances.indices.sorted { s.distances[$0] < s.distances[$1] }.prefix(16)
        let closest = order.map { Closest(sample: $0, trainIndex: s.indices[$0], distance: Double(s.distances[$0])) }
        var pairs = Matrix(rows: 2 * closest.count, cols: samples.cols)
        for (i, c) in closest.enumerated() {
            pairs.setRows(samples.row(c.sample), at: i)
            pairs.setRows(train.row(c.trainIndex), at: closest.count + i)
        }
        try PNGImage.writeGrid(pairs, height: 28, width: 28, columns: max(closest.count, 1), range: 0...1,
                               background: 128, to: picture)
        return Memorisation(samplePercentiles: pct(s.distances), sampleMean: mean(s.distances),
                            testPercentiles: pct(t.distances), testMean: mean(t.distances),
                            fractionBelowTestP1: Double(below) / Double(max(samples.rows, 1)),
                            histogramEdges: edges, sampleHistogram: hist(s.distances),
                            testHistogram: hist(t.distances), closest: Array(closest))
    }
}
