import XCTest
import Linalg

final class MatrixTests: XCTestCase {
    func testRowViewsShareStorageAndHaveOffset() {
        let m = Matrix(rows: 4, cols: 3, elements: (0..<12).map(Float.init))
        let v = m.rows(1..<3)
        XCTAssertEqual(v.shape.rows, 2)
        XCTAssertEqual(v.elements, [3, 4, 5, 6, 7, 8])
        XCTAssertEqual(address(v), address(m).map { $0 + 3 }, "a view points into its parent")
        XCTAssertEqual(m.row(3).elements, [9, 10, 11])
        XCTAssertEqual(v.rows(1..<2).elements, [6, 7, 8], "a view of a view keeps both offsets")
        XCTAssertEqual(m.rows(2..<2).count, 0)
    }

    func testCopyOnWrite() {
        let original = Matrix(rows: 2, cols: 2, elements: [1, 2, 3, 4])
        var copy = original
        copy[0, 1] = 20
        XCTAssertEqual(original.elements, [1, 2, 3, 4])
        XCTAssertEqual(copy.elements, [1, 20, 3, 4])

        var viewCopy = original.rows(1..<2)
        viewCopy.fill(9)
        XCTAssertEqual(original.elements, [1, 2, 3, 4], "filling a view copies it first")
        XCTAssertEqual(viewCopy.elements, [9, 9])

        var unique = Matrix(rows: 2, cols: 2)
        XCTAssertTrue(unique.isUniquelyReferenced())
        let other = unique
        XCTAssertFalse(unique.isUniquelyReferenced())
        _ = other
    }

    func testResizeReusesCapacity() {
        var m = Matrix(rows: 8, cols: 8)
        let base = address(m)
        m.resize(rows: 4, cols: 10)          // 40 <= 64
        XCTAssertEqual(m.shape.rows, 4); XCTAssertEqual(m.shape.cols, 10)
        XCTAssertEqual(address(m), base, "shrinking must reuse the storage")
        m.resize(rows: 8, cols: 8)           // back to the full capacity
        XCTAssertEqual(address(m), base)
        m.resize(rows: 9, cols: 8)           // beyond capacity: new storage
        XCTAssertEqual(m.count, 72)
        XCTAssertNotEqual(address(m), base)

        // A shared matrix is never resized in place: the other owner keeps its shape and values.
        var a = Matrix(rows: 2, cols: 3, repeating: 5)
        let b = a
        a.resize(rows: 1, cols: 2)
        XCTAssertEqual(b.elements, [5, 5, 5, 5, 5, 5])
        XCTAssertNotEqual(address(a), address(b))
    }

    func testAssignAndReshapeAndTranspose() {
        let src = Matrix([[1, 2, 3], [4, 5, 6]])
        var dst = Matrix(rows: 10, cols: 10)
        let base = address(dst)
        dst.assign(src)
        XCTAssertEqual(dst, src)
        XCTAssertEqual(address(dst), base, "assign into a larger unshared matrix reuses storage")
        XCTAssertEqual(src.reshaped(rows: 3, cols: 2).elements, [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(src.transposed(), Matrix([[1, 4], [2, 5], [3, 6]]))
        XCTAssertEqual(Matrix.identity(3).elements, [1, 0, 0, 0, 1, 0, 0, 0, 1])
        XCTAssertNotEqual(Matrix(rows: 1, cols: 1, repeating: .nan), Matrix(rows: 1, cols: 1, repeating: .nan))
        XCTAssertNotEqual(Matrix(rows: 1, cols: 2), Matrix(rows: 2, cols: 1))
    }
}
