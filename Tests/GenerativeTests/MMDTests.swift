import Foundation
import Linalg
import XCTest
@testable import Generative

/// The unbiased MMD² of Gretton et al. 2012 (eq. 3) with a Gaussian kernel.
final class MMDTests: XCTestCase {
    /// x = {0, 1}, y = {0, 2}, σ = 1: every kernel value written out.
    func testMMDByHand() {
        let k = { (d: Double) in exp(-d * d / 2) }
        let xx = k(1)                                  // the one distinct pair of x, both orders
        let yy = k(2)
        let xy = (k(0) + k(2) + k(1) + k(1)) / 4
        XCTAssertEqual(TwoSampleScore.mmd2([[0], [1]], [[0], [2]], sigma: 1), xx + yy - 2 * xy, accuracy: 1e-12)
    }

    /// Samples of the data's own distribution score near the real halves' floor; shifted ones
    /// far above it.
    func testSameDistributionScoresNearTheFloor() {
        var rng = Xoshiro256(seed: 3)
        let real = Matrix.normal(rows: 800, cols: 2, using: &rng)
        let same = Matrix.normal(rows: 400, cols: 2, using: &rng)
        var shifted = Matrix.normal(rows: 400, cols: 2, using: &rng)
        shifted.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] += 1 } }
        let a = TwoSampleScore.measure(samples: same, real: real)
        let b = TwoSampleScore.measure(samples: shifted, real: real)
        XCTAssertEqual(a.samples, 400)
        XCTAssertLessThan(abs(a.mmd2), 0.01)
        XCTAssertLessThan(abs(a.mmd2RealHalves), 0.01)
        XCTAssertGreaterThan(b.mmd2, 10 * max(abs(a.mmd2), 0.005))
    }
}
