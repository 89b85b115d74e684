import Linalg
import XCTest

final class MatrixRangeTests: XCTestCase {
    func testSymmetricAndUnitRangesByHand() {
        var m = Matrix([[-1, 0, 1, 0.5, -0.25]])
        m.mapRange(from: -1...1, to: 0...1)
        XCTAssertEqual(m.elements, [0, 0.5, 1, 0.75, 0.375])
        m.mapRange(from: 0...1, to: -1...1)
        XCTAssertEqual(m.elements, [-1, 0, 1, 0.5, -0.25])
        // Outside the source interval: extrapolated, not clamped.
        XCTAssertEqual(Matrix([[2]]).mappingRange(from: -1...1, to: 0...1).elements, [1.5])
        XCTAssertEqual(Matrix([[0, 2, 4, 1]]).mappingRange(from: 0...4, to: -1...1).elements, [-1, 0, 1, -0.5])
    }

    func testSameRangeIsANoOpKeepingNegativeZero() {
        var m = Matrix([[-0.0, 0.3]])
        m.mapRange(from: 0...1, to: 0...1)
        XCTAssertEqual(m.elements[0].sign, .minus)
        XCTAssertEqual(m.elements[1], 0.3)
    }

    func testMatchesTheFormulasItReplaces() {
        var rng = Xoshiro256(seed: 2)
        let x = Matrix.uniform(rows: 50, cols: 20, low: -1, high: 1, using: &rng)
        let unit = x.mappingRange(from: -1...1, to: 0...1)
        let back = unit.mappingRange(from: 0...1, to: -1...1)
        for i in 0..<x.count {
            XCTAssertEqual(unit.elements[i].bitPattern, (0.5 * (x.elements[i] + 1)).bitPattern)
            XCTAssertEqual(back.elements[i].bitPattern, (2 * unit.elements[i] - 1).bitPattern)
        }
    }
}
