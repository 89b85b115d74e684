import Generative
import Linalg
import XCTest

/// Latent codes of the evaluation figures (moved from gen's picture tests with the code).
final class LatentGridTests: XCTestCase {
    func testInverseNormalCDFMatchesKnownQuantiles() {
        // scipy.stats.norm.ppf([0.5, 0.975, 0.025, 0.8413447460685429])
        XCTAssertEqual(LatentGrid.inverseNormalCDF(0.5), 0, accuracy: 1e-12)
        XCTAssertEqual(LatentGrid.inverseNormalCDF(0.975), 1.959963984540054, accuracy: 1e-9)
        XCTAssertEqual(LatentGrid.inverseNormalCDF(0.025), -1.959963984540054, accuracy: 1e-9)
        XCTAssertEqual(LatentGrid.inverseNormalCDF(0.8413447460685429), 1, accuracy: 1e-9)
    }

    /// The manifold figure's latent grid: the prior's quantiles (Kingma & Welling 2014, figure 4).
    func testManifoldGridCoversThePriorQuantiles() {
        let z = LatentGrid.manifold(side: 20)
        XCTAssertEqual(z.rows, 400)
        XCTAssertEqual(z.cols, 2)
        // Top-left: smallest z1, largest z2; p = 0.025 / 0.975.
        XCTAssertEqual(Double(z[0, 0]), -1.959964, accuracy: 1e-5)
        XCTAssertEqual(Double(z[0, 1]), 1.959964, accuracy: 1e-5)
        XCTAssertEqual(Double(z[399, 0]), 1.959964, accuracy: 1e-5)
        XCTAssertEqual(Double(z[399, 1]), -1.959964, accuracy: 1e-5)
        // Columns vary z1 only, rows z2 only.
        XCTAssertEqual(z[1, 1], z[0, 1])
        XCTAssertEqual(z[20, 0], z[0, 0])
    }

    /// Two strips of 5 steps: from (0, 4) to (4, 0) and from (-2, 2) to (2, -2); steps of a
    /// quarter, worked out by hand.
    func testInterpolationsRunFromEachEndToTheNext() {
        let ends = Matrix([[0, 4], [4, 0], [-2, 2], [2, -2]])
        let z = LatentGrid.interpolations(between: ends, steps: 5)
        XCTAssertEqual(z.rows, 10)
        XCTAssertEqual(z.cols, 2)
        let expected: [[Float]] = [[0, 4], [1, 3], [2, 2], [3, 1], [4, 0],
                                   [-2, 2], [-1, 1], [0, 0], [1, -1], [2, -2]]
        for (i, row) in expected.enumerated() {
            XCTAssertEqual([z[i, 0], z[i, 1]], row, "row \(i)")
        }
    }
}
