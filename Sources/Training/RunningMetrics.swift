/// Weighted sums of per-step metrics (one entry per metrics.csv step column) over a span of
/// steps, with the samples seen and the batches skipped as non-finite.
public struct MetricSums: Codable, Sendable, Equatable {
    /// Sum of value x weight per column (steps whose value is NaN are left out).
    public var sums: [Double]
    /// Sum of the weights per column.
    public var counts: [Int]
    /// Samples trained on.
    public var samples: Int
    /// Batches skipped (non-finite loss or gradient, `NonFinitePolicy.skip`).
    public var skipped: Int

    public init(columns: Int) {
        sums = [Double](repeating: 0, count: columns)
        counts = [Int](repeating: 0, count: columns)
        samples = 0
        skipped = 0
    }

    /// Adds one step's `values` with `weight` (NaN values are not counted).
    public mutating func add(_ values: [Double], weight: Int) {
        for i in 0..<sums.count where !values[i].isNaN {
            sums[i] += values[i] * Double(weight)
            counts[i] += weight
        }
    }

    /// Sum / count per column; NaN where nothing was counted.
    public var means: [Double] {
        zip(sums, counts).map { $1 > 0 ? $0 / Double($1) : .nan }
    }

    /// Back to zero, in place (no allocation).
    public mutating func reset() {
        for i in sums.indices { sums[i] = 0 }
        for i in counts.indices { counts[i] = 0 }
        samples = 0
        skipped = 0
    }

    var problem: String? {
        if sums.count != counts.count { return "\(sums.count) sums but \(counts.count) counts" }
        if let c = counts.first(where: { $0 < 0 }) ?? (samples < 0 ? samples : nil) ?? (skipped < 0 ? skipped : nil) {
            return "negative count \(c)"
        }
        if let s = sums.first(where: { !$0.isFinite }) { return "sum \(s) is not finite" }
        return nil
    }
}

/// What the epoch loop accumulates between checkpoints: the epoch's sums, the sums of the
/// current metrics.csv step window (which may span epochs), and the epoch's seconds so far.
public struct RunningMetrics: Codable, Sendable, Equatable {
    public var epoch: MetricSums
    public var window: MetricSums
    /// Seconds spent in the epoch so far (its samples/s figure covers the whole epoch).
    public var epochSeconds: Double

    public init(columns: Int) {
        epoch = MetricSums(columns: columns)
        window = MetricSums(columns: columns)
        epochSeconds = 0
    }

    /// The first inconsistency, or nil.
    var problem: String? {
        if let p = epoch.problem { return "running.epoch: \(p)" }
        if let p = window.problem { return "running.window: \(p)" }
        if epoch.sums.count != window.sums.count { return "running: epoch and window have different columns" }
        if !(epochSeconds >= 0 && epochSeconds.isFinite) { return "running.epochSeconds \(epochSeconds) is not a duration" }
        return nil
    }
}
