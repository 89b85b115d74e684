import Foundation
import Linalg

/// A two-sample comparison of generated and real data by the maximum mean discrepancy
/// (Gretton et al. 2012, "A Kernel Two-Sample Test", JMLR 13, eq. 3: the unbiased MMD²_u)
/// with a Gaussian kernel `k(a, b) = exp(-‖a - b‖² / (2σ²))`, σ the median distance between
/// pooled points (their "median heuristic", section 8). 0 in expectation when both samples
/// come from one distribution; larger when they differ. Computed in Double.
public struct TwoSampleScore: Codable, Sendable, Equatable {
    /// MMD²_u of the samples against the real data.
    public var mmd2: Double
    /// MMD²_u of one half of the real data against the other half, at the same σ and sizes:
    /// what a perfect model would score, up to noise.
    public var mmd2RealHalves: Double
    /// The kernel width σ, in the units of the compared values (the [0, 1] the model trains on).
    public var bandwidth: Double
    /// Points on each side of `mmd2`.
    public var samples: Int

    public init(mmd2: Double, mmd2RealHalves: Double, bandwidth: Double, samples: Int) {
        self.mmd2 = mmd2
        self.mmd2RealHalves = mmd2RealHalves
        self.bandwidth = bandwidth
        self.samples = samples
    }

    /// Scores `samples` against `real` (same width, each at least 4 rows): `n = min(rows)/2`
    /// rows of each for MMD²_u, and the real data's two halves of n rows for the floor. σ is the
    /// median distance among up to 500 pooled rows.
    /// - Precondition: equal widths, at least 4 rows each.
    public static func measure(samples: Matrix, real: Matrix) -> TwoSampleScore {
        precondition(samples.cols == real.cols && samples.rows >= 4 && real.rows >= 4,
                     "TwoSampleScore: \(samples.rows)x\(samples.cols) samples, \(real.rows)x\(real.cols) real")
        let n = min(samples.rows, real.rows / 2)
        let x = rows(samples, 0, n), a = rows(real, 0, n), b = rows(real, n, n)
        let sigma = medianDistance(x + a)
        return TwoSampleScore(mmd2: mmd2(x, a, sigma: sigma), mmd2RealHalves: mmd2(a, b, sigma: sigma),
                              bandwidth: sigma, samples: n)
    }

    private static func rows(_ m: Matrix, _ start: Int, _ n: Int) -> [[Double]] {
        (start..<(start + n)).map { r in (0..<m.cols).map { Double(m[r, $0]) } }
    }

    private static func squaredDistance(_ p: [Double], _ q: [Double]) -> Double {
        var s = 0.0
        for i in p.indices { let d = p[i] - q[i]; s += d * d }
        return s
    }

    /// The median pairwise distance of (up to) the first 500 points; 1 when all coincide.
    private static func medianDistance(_ points: [[Double]]) -> Double {
        let p = Array(points.prefix(500))
        var d: [Double] = []
        for i in 0..<p.count { for j in (i + 1)..<p.count { d.append(squaredDistance(p[i], p[j]).squareRoot()) } }
        d.sort()
        let m = d.isEmpty ? 0 : d[d.count / 2]
        return m > 0 ? m : 1
    }

    /// MMD²_u = mean k(x, x') + mean k(y, y') - 2 mean k(x, y), the first two over distinct pairs.
    static func mmd2(_ x: [[Double]], _ y: [[Double]], sigma: Double) -> Double {
        let g = 1 / (2 * sigma * sigma)
        func mean(_ p: [[Double]], _ q: [[Double]], distinct: Bool) -> Double {
            var s = 0.0, count = 0
            for i in p.indices { for j in q.indices where !(distinct && i == j) {
                s += exp(-g * squaredDistance(p[i], q[j])); count += 1
            } }
            return s / Double(max(count, 1))
        }
        return mean(x, x, distinct: true) + mean(y, y, distinct: true) - 2 * mean(x, y, distinct: false)
    }
}
