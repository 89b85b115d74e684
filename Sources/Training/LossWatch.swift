import Foundation

/// Detects, once per run, training that looks like it is diverging (a learning rate far too large
/// finishes with exit 0 and losses like 1e17 otherwise, with nothing said).
///
/// The rule: each step's value of every logged metric (the step's own value, recovered from the
/// epoch's running sums) is compared with that metric's value at the first step this process
/// saw; when `|value| > factor * max(|first|, 1)` — three orders of magnitude above where it
/// started, or above 1000 for metrics that start near zero — `check` reports it once (the
/// metric, its value, the step and the first value). NaN/inf are not handled here (see
/// `NonFinitePolicy`). Bounded metrics (D(x), D(G(z)) in [0, 1]) can never trigger it.
/// Allocates nothing per step (the buffers are sized once).
public struct LossWatch {
    /// How far above its first value a metric must go.
    public static let factor = 1e3

    /// A metric that went `factor` times above its first value.
    public struct Divergence: Equatable, Sendable {
        public let metric: String
        public let value: Double
        public let step: Int
        public let first: Double
    }

    private var first: [Double] = []
    private var lastSums: [Double] = []
    private var lastCounts: [Int] = []
    private var primed = false
    public private(set) var warned = false

    public init() {}

    /// The divergence seen at this step, once per run; nil otherwise.
    public mutating func check(_ r: StepReport) -> Divergence? {
        guard !warned else { return nil }
        let n = r.columns.count
        if first.count != n {
            first = [Double](repeating: .nan, count: n)
            lastSums = [Double](repeating: 0, count: n)
            lastCounts = [Int](repeating: 0, count: n)
        }
        // A new epoch restarts the sums; a resumed run's first step mid-epoch only primes them.
        if r.batch == 1 {
            for i in 0..<n { lastSums[i] = 0; lastCounts[i] = 0 }
            primed = true
        }
        defer {
            for i in 0..<n { lastSums[i] = r.sums.sums[i]; lastCounts[i] = r.sums.counts[i] }
            primed = true
        }
        guard primed else { return nil }
        for i in 0..<n {
            let weight = r.sums.counts[i] - lastCounts[i]
            guard weight > 0 else { continue }
            let value = (r.sums.sums[i] - lastSums[i]) / Double(weight)
            guard value.isFinite else { continue }
            if first[i].isNaN { first[i] = value; continue }
            if abs(value) > Self.factor * max(abs(first[i]), 1) {
                warned = true
                return Divergence(metric: r.columns[i], value: value, step: r.step, first: first[i])
            }
        }
        return nil
    }
}
