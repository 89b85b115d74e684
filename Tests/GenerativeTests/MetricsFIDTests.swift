import Datasets
import Foundation
import Generative
import Linalg
import XCTest

/// FID against scipy (scripts/make_fid_fixtures.py) and against closed forms.
final class MetricsFIDTests: XCTestCase {
    let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func testMatchesScipyReference() throws {
        let a = try NPY.readMatrix(contentsOf: fixtures.appendingPathComponent("fid_features_a.npy"))
        let b = try NPY.readMatrix(contentsOf: fixtures.appendingPathComponent("fid_features_b.npy"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("fid_expected.json"))) as! [String: Any]
        let expected = json["fid_a_b"] as! Double
        let expectedTrace = json["trace_sqrt_a_b"] as! Double
        let sa = FeatureStatistics(features: a), sb = FeatureStatistics(features: b)
        let fid = try frechetDistance(sa, sb)
        XCTAssertEqual(fid, expected, accuracy: 1e-4 * expected, "FID \(fid) vs scipy \(expected)")
        let tr = try traceSqrtProduct(sa.covariance, sb.covariance)
        XCTAssertEqual(tr, expectedTrace, accuracy: 1e-4 * expectedTrace)
        // Symmetric in its arguments, and 0 for a set against itself.
        XCTAssertEqual(try frechetDistance(sb, sa), fid, accuracy: 1e-9 * fid)
        XCTAssertEqual(try frechetDistance(sa, sa), 0, accuracy: 1e-9)
    }

    /// 1-D Gaussians: d² = (m1 - m2)² + (s1 - s2)² for standard deviations s1, s2.
    func testOneDimensionalClosedForm() throws {
        let x = Matrix(rows: 4, cols: 1, elements: [1, 2, 3, 6])      // mean 3, var 14/3
        let y = Matrix(rows: 3, cols: 1, elements: [0, 1, -1])        // mean 0, var 1
        let fid = try frechetDistance(FeatureStatistics(features: x), FeatureStatistics(features: y))
        let s1 = (14.0 / 3).squareRoot(), s2 = 1.0
        XCTAssertEqual(fid, 9 + (s1 - s2) * (s1 - s2), accuracy: 1e-6)
    }

    /// Diagonal covariances: Tr(sqrt(S1 S2)) = Σ sqrt(a_i b_i); unbiased covariance by hand.
    func testStatisticsByHand() throws {
        let x = Matrix([[1, 0], [3, 0], [1, 4], [3, 4]])   // independent columns
        let s = FeatureStatistics(features: x)
        XCTAssertEqual(s.mean, [2, 2])
        XCTAssertEqual(s.covariance, DoubleMatrix([[4.0 / 3, 0], [0, 16.0 / 3]]))
        let t = FeatureStatistics(count: 2, mean: [0, 0], covariance: DoubleMatrix([[3, 0], [0, 1]]))
        let expected = 8 + (4.0 / 3 + 16.0 / 3) + 4 - 2 * ((4.0 / 3 * 3).squareRoot() + (16.0 / 3).squareRoot())
        XCTAssertEqual(try frechetDistance(s, t), expected, accuracy: 1e-9)
    }

    func testNonFiniteFeaturesThrow() {
        let x = Matrix([[1, .nan], [2, 3], [0, 1]])
        XCTAssertThrowsError(try frechetDistance(FeatureStatistics(features: x), FeatureStatistics(features: x)))
    }
}
