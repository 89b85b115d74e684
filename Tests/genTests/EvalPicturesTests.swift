@testable import gen
import XCTest

/// The manifold figure's latent grid: the prior's quantiles (Kingma & Welling 2014, figure 4).
final class EvalPicturesTests: XCTestCase {
    func testInverseNormalCDFMatchesKnownQuantiles() {
        // scipy.stats.norm.ppf([0.5, 0.975, 0.025, 0.8413447460685429])
        XCTAssertEqual(Pictures.inverseNormalCDF(0.5), 0, accuracy: 1e-12)
        XCTAssertEqual(Pictures.inverseNormalCDF(0.975), 1.959963984540054, accuracy: 1e-9)
        XCTAssertEqual(Pictures.inverseNormalCDF(0.025), -1.959963984540054, accuracy: 1e-9)
        XCTAssertEqual(Pictures.inverseNormalCDF(0.8413447460685429), 1, accuracy: 1e-9)
    }

    func testManifoldGridCoversThePriorQuantiles() {
        let z = Pictures.manifoldGrid(side: 20)
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
}
