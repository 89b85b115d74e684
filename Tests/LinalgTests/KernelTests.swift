import XCTest
import Linalg

/// Each kernel against a naive loop over `elements`, with inputs that are row views at a
/// nonzero offset.
final class KernelTests: XCTestCase {
    // 3x5 views at offset 2 rows into 7x5 parents.
    let pa = randomMatrix(7, 5, seed: 31)
    let pb = randomMatrix(7, 5, seed: 32)
    var a: Matrix { pa.rows(2..<5) }
    var b: Matrix { pb.rows(2..<5) }

    func check(_ f: (Matrix, Matrix, inout Matrix) -> Void, _ op: (Float, Float) -> Float,
               _ name: String) {
        let expected = zip(a.elements, b.elements).map { op($0, $1) }
        var out = Matrix(rows: 10, cols: 10)   // larger: must be resized in place
        let base = address(out)
        f(a, b, &out)
        XCTAssertEqual(out.shape.rows, 3, name); XCTAssertEqual(out.shape.cols, 5, name)
        XCTAssertEqual(out.elements, expected, name)
        XCTAssertEqual(address(out), base, "\(name): out must reuse its storage")
    }

    func testBinaryKernels() {
        check({ Matrix.add($0, $1, into: &$2) }, +, "add")
        check({ Matrix.subtract($0, $1, into: &$2) }, -, "subtract")
        check({ Matrix.multiply($0, $1, into: &$2) }, *, "multiply")
        check({ Matrix.scale($0, by: -1.5, into: &$2) }, { x, _ in -1.5 * x }, "scale")
    }

    func testInPlaceAddOnViewLeavesParentUnchanged() {
        let parentBefore = pa.elements
        var v = a
        v.add(b)
        XCTAssertEqual(v.elements, zip(a.elements, b.elements).map { $0 + $1 })
        XCTAssertEqual(pa.elements, parentBefore)
    }

    func testAddRowVector() {
        let bias = pb.rows(6..<7)   // 1x5 view at offset 30
        var m = a
        m.addRowVector(bias)
        let av = a.elements, bv = bias.elements
        XCTAssertEqual(m.elements, (0..<15).map { av[$0] + bv[$0 % 5] })
    }

    func testColumnAndRowSums() {
        let av = a.elements
        var cs = Matrix(rows: 4, cols: 4, repeating: .nan)
        Matrix.columnSums(a, into: &cs)
        XCTAssertEqual(cs.shape.rows, 1)
        let colRef = (0..<5).map { j in (0..<3).reduce(Float(0)) { $0 + av[$1 * 5 + j] } }
        XCTAssertEqual(cs.elements, colRef)
        Matrix.columnSums(a, into: &cs, accumulate: true)
        XCTAssertEqual(cs.elements, colRef.map { $0 + $0 })

        var rs = Matrix.empty
        Matrix.rowSums(a, into: &rs)
        XCTAssertEqual(rs.shape.cols, 1)
        XCTAssertEqual(rs.elements, (0..<3).map { i in (0..<5).reduce(Float(0)) { $0 + av[i * 5 + $1] } })

        var zeroCols = Matrix(rows: 1, cols: 1, repeating: .nan)
        Matrix.rowSums(Matrix(rows: 3, cols: 0), into: &zeroCols)
        XCTAssertEqual(zeroCols.elements, [0, 0, 0])
    }

    func testSumAndMean() {
        let big = randomMatrix(31, 33, seed: 40)   // 1023 elements: several 256-blocks
        let ref = big.elements.reduce(0.0) { $0 + Double($1) }
        XCTAssertEqual(big.sum(), ref, accuracy: 1e-4)
        XCTAssertEqual(big.mean(), ref / 1023, accuracy: 1e-7)
        XCTAssertEqual(a.sum(), a.elements.reduce(0.0) { $0 + Double($1) }, accuracy: 1e-5)
        XCTAssertTrue(Matrix(rows: 0, cols: 3).mean().isNaN)
    }

    func testRowMaxTiesAndNaN() {
        let m = Matrix([[1, 3, 3, 2], [.nan, -1, -5, -1], [-2, .nan, -1, -7], [4, 4, 4, 4]])
        let r = m.rowMax()
        XCTAssertEqual(r.indices, [1, 1, 2, 0], "first max on ties; NaN never wins over a number")
        XCTAssertEqual(r.values, [3, -1, -1, 4])
        XCTAssertEqual(m.argmaxPerRow(), r.indices)
        let av = a.elements
        XCTAssertEqual(a.argmaxPerRow(), (0..<3).map { i in
            (0..<5).max { av[i * 5 + $0] < av[i * 5 + $1] }!
        })
    }

    func testClampAndAllFinite() {
        var m = Matrix([[-3, 0.5, .nan, 7]])
        m.clamp(low: -1, high: 1)
        XCTAssertEqual(m[0, 0], -1); XCTAssertEqual(m[0, 1], 0.5)
        XCTAssertTrue(m[0, 2].isNaN); XCTAssertEqual(m[0, 3], 1)
        XCTAssertFalse(m.allFinite())
        XCTAssertTrue(a.allFinite())
        XCTAssertFalse(Matrix([[1, .infinity]]).allFinite())
        XCTAssertFalse(Matrix([[-.infinity, 1]]).allFinite())
        XCTAssertTrue(Matrix(rows: 0, cols: 0).allFinite())
    }
}

/// allFinite on every position of a long vector (the vectorised loop and its remainder).
final class AllFiniteTests: XCTestCase {
    func testDetectsOneNonFiniteValueAnywhere() {
        var m = Matrix(rows: 1, cols: 1031, repeating: 1)
        XCTAssertTrue(m.allFinite())
        for bad: Float in [.nan, .infinity, -.infinity] {
            for pos in [0, 7, 8, 515, 1023, 1024, 1030] {
                m[0, pos] = bad
                XCTAssertFalse(m.allFinite(), "\(bad) at \(pos)")
                m[0, pos] = .greatestFiniteMagnitude
                XCTAssertTrue(m.allFinite())
            }
        }
    }
}
