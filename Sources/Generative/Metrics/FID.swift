import Linalg

/// Mean and covariance of a set of feature vectors, in double precision: the Gaussian that FID
/// fits to each set (Heusel et al. 2017).
public struct FeatureStatistics: Sendable, Equatable {
    /// Number of feature vectors summarised.
    public let count: Int
    /// Per-feature mean, `d` values.
    public let mean: [Double]
    /// `d x d` unbiased covariance (divisor `count - 1`, as `numpy.cov(rowvar=False)`).
    public let covariance: DoubleMatrix

    /// Statistics of `features` (`n x d`, one feature vector per row; n >= 2).
    ///
    /// Centring and the product `Xcᵀ Xc` are done in Double (`cblas_dgemm`), so the result does
    /// not suffer from Float cancellation when the mean is large compared to the spread.
    /// - Precondition: `features.rows >= 2`.
    public init(features: Matrix) {
        let n = features.rows, d = features.cols
        precondition(n >= 2, "FeatureStatistics: need at least 2 rows, got \(n)")
        var mean = [Double](repeating: 0, count: d)
        var centred = [Double](repeating: 0, count: n * d)
        features.withUnsafeBufferPointer { p in
            mean.withUnsafeMutableBufferPointer { m in
                for i in 0..<n { for j in 0..<d { m[j] += Double(p[i &* d &+ j]) } }
                for j in 0..<d { m[j] /= Double(n) }
                centred.withUnsafeMutableBufferPointer { c in
                    for i in 0..<n { for j in 0..<d { c[i &* d &+ j] = Double(p[i &* d &+ j]) - m[j] } }
                }
            }
        }
        let xc = DoubleMatrix(rows: n, cols: d, elements: centred)
        var cov = matmul(xc, xc, transposeA: true)
        let scale = 1 / Double(n - 1)
        for i in cov.elements.indices { cov.elements[i] *= scale }
        self.init(count: n, mean: mean, covariance: cov)
    }

    /// Statistics given directly. - Precondition: `covariance` is `mean.count` square.
    public init(count: Int, mean: [Double], covariance: DoubleMatrix) {
        precondition(covariance.rows == mean.count && covariance.cols == mean.count,
                     "FeatureStatistics: covariance \(covariance.rows)x\(covariance.cols) for \(mean.count) means")
        self.count = count
        self.mean = mean
        self.covariance = covariance
    }
}

/// The Fréchet distance between the Gaussians fitted to two feature sets,
/// `d² = |μ1 - μ2|² + Tr(S1) + Tr(S2) - 2 Tr(sqrt(S1 S2))`
/// (Dowson & Landau 1982; as FID, Heusel et al. 2017, with the reference classifier's
/// penultimate features in place of Inception's). `Tr(sqrt(S1 S2))` comes from symmetric
/// eigen-decompositions in Double (`traceSqrtProduct`). In squared feature units; 0 for
/// identical statistics, and never negative beyond round-off (clamped at 0).
/// - Throws: `LAPACKError` when a covariance holds NaN/inf or `dsyevd` fails.
/// - Precondition: both statistics have the same dimension.
public func frechetDistance(_ a: FeatureStatistics, _ b: FeatureStatistics) throws(LAPACKError) -> Double {
    precondition(a.mean.count == b.mean.count,
                 "frechetDistance: \(a.mean.count) features against \(b.mean.count)")
    var meanTerm = 0.0
    for j in a.mean.indices { let d = a.mean[j] - b.mean[j]; meanTerm += d * d }
    let cross = try traceSqrtProduct(a.covariance, b.covariance)
    return Swift.max(meanTerm + a.covariance.trace() + b.covariance.trace() - 2 * cross, 0)
}
