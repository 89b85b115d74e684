import Linalg

/// Per-feature min-max scaling of real-valued data to [0, 1] (scikit-learn's `MinMaxScaler`):
/// `x' = (x - low) / (high - low)` per column, and back. A constant column (`high == low`)
/// maps to 0 and back to its value. Stored in a run's `config.json` so that samples can be
/// written in the data's own units.
public struct FeatureScaling: Codable, Sendable, Equatable {
    /// The smallest and largest value of each column of the training data.
    public var low: [Float]
    public var high: [Float]

    public init(low: [Float], high: [Float]) {
        precondition(low.count == high.count, "FeatureScaling: \(low.count) lows, \(high.count) highs")
        self.low = low
        self.high = high
    }

    /// The column-wise range of `m` (finite values).
    public init(fitting m: Matrix) {
        var lo = [Float](repeating: .infinity, count: m.cols), hi = [Float](repeating: -.infinity, count: m.cols)
        m.withUnsafeBufferPointer { p in
            for r in 0..<m.rows { for c in 0..<m.cols {
                let v = p[r &* m.cols &+ c]
                lo[c] = min(lo[c], v); hi[c] = max(hi[c], v)
            } }
        }
        self.init(low: lo, high: hi)
    }

    /// Maps `m`'s columns from the data's range to [0, 1] in place.
    /// - Precondition: `m.cols == low.count`.
    public func apply(_ m: inout Matrix) {
        transform(&m) { v, lo, hi in hi > lo ? (v - lo) / (hi - lo) : 0 }
    }

    /// Maps `m`'s columns from [0, 1] back to the data's range in place.
    /// - Precondition: `m.cols == low.count`.
    public func invert(_ m: inout Matrix) {
        transform(&m) { v, lo, hi in lo + v * (hi - lo) }
    }

    private func transform(_ m: inout Matrix, _ f: (Float, Float, Float) -> Float) {
        precondition(m.cols == low.count, "FeatureScaling: \(m.cols) columns, fitted on \(low.count)")
        let cols = m.cols
        m.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = f(p[i], low[i % cols], high[i % cols]) }
        }
    }
}
