import Generative
import Linalg
import XCTest

/// Memorisation on a hand-made case whose distances are worked out by hand.
final class EvaluationMemorisationTests: XCTestCase {
    func testMemorisationByHand() throws {
        let train = Matrix([[0, 0], [3, 0], [0, 4]])
        // Nearest training points: (0,0) at 0 (train 0); (3,2) at 2 (train 1); (0.5,4) at 0.5 (train 2).
        let samples = Matrix([[0, 0], [3, 2], [0.5, 4]])
        // (1,0) at 1 (train 0); (0,6) at 2 (train 2); (3,3) at 3 (train 1; train 2 is sqrt 10 away).
        let test = Matrix([[1, 0], [0, 6], [3, 3]])
        let (m, pairs) = try Memorisation.analyse(samples: samples, train: train, test: test,
                                                  closestCount: 2, bins: 3)
        // Sorted sample distances 0, 0.5, 2: p1 = 0.02 · 0.5, p50 = 0.5, p99 = 0.5 + 0.98 · 1.5.
        XCTAssertEqual(m.samplePercentiles["1"]!, 0.01, accuracy: 1e-6)
        XCTAssertEqual(m.samplePercentiles["50"]!, 0.5, accuracy: 1e-6)
        XCTAssertEqual(m.samplePercentiles["99"]!, 1.97, accuracy: 1e-6)
        XCTAssertEqual(m.sampleMean, 2.5 / 3, accuracy: 1e-6)
        XCTAssertEqual(m.testPercentiles["50"]!, 2, accuracy: 1e-6)
        XCTAssertEqual(m.testMean, 2, accuracy: 1e-6)
        // Test p1 = 1 + 0.02 · 1 = 1.02; samples at 0 and 0.5 are closer: 2 of 3.
        XCTAssertEqual(m.fractionBelowTestP1, 2.0 / 3, accuracy: 1e-12)
        // Bins over [0, 3] (the largest distance, a test one): [0,1) [1,2) [2,3]; the top edge
        // falls in the last bin.
        XCTAssertEqual(m.histogramEdges, [0, 1, 2, 3])
        XCTAssertEqual(m.sampleHistogram, [2, 0, 1])
        XCTAssertEqual(m.testHistogram, [0, 1, 2])
        XCTAssertEqual(m.closest.map(\.sample), [0, 2])
        XCTAssertEqual(m.closest.map(\.trainIndex), [0, 2])
        XCTAssertEqual(m.closest[0].distance, 0, accuracy: 1e-6)
        XCTAssertEqual(m.closest[1].distance, 0.5, accuracy: 1e-6)
        // Samples on top, their neighbours below.
        XCTAssertEqual(pairs, Matrix([[0, 0], [0.5, 4], [0, 0], [0, 4]]))
    }

    func testMismatchedOrEmptySetsThrow() {
        let a = Matrix(rows: 2, cols: 2), b = Matrix(rows: 2, cols: 3)
        XCTAssertThrowsError(try Memorisation.analyse(samples: a, train: b, test: b)) { e in
            XCTAssertEqual((e as? EvaluationError)?.kind, .shapeMismatch)
        }
        XCTAssertThrowsError(try Memorisation.analyse(samples: Matrix(rows: 0, cols: 2), train: a, test: a))
    }

    func testSummaryEncodesWithTheEvalJSONKeys() throws {
        let (m, _) = try Memorisation.analyse(samples: Matrix([[0, 1]]), train: Matrix([[0, 0]]), test: Matrix([[1, 0]]))
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(m)) as! [String: Any]
        XCTAssertEqual(Set(json.keys), ["samplePercentiles", "sampleMean", "testPercentiles", "testMean",
                                        "fractionBelowTestP1", "histogramEdges", "sampleHistogram",
                                        "testHistogram", "closest"])
        XCTAssertEqual(try JSONDecoder().decode(Memorisation.self, from: JSONEncoder().encode(m)), m)
    }
}
