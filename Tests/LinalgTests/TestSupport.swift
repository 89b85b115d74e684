import XCTest
import Linalg

/// A `rows x cols` matrix of uniform values in [-1, 1) from a fixed seed.
func randomMatrix(_ rows: Int, _ cols: Int, seed: UInt64) -> Matrix {
    var rng = Xoshiro256(seed: seed)
    return Matrix.uniform(rows: rows, cols: cols, low: -1, high: 1, using: &rng)
}

/// Naive reference `op(A) op(B)` in Double, as nested arrays `m x n`.
func naiveProduct(_ a: Matrix, _ b: Matrix, transposeA: Bool, transposeB: Bool) -> [[Double]] {
    let m = transposeA ? a.cols : a.rows
    let k = transposeA ? a.rows : a.cols
    let n = transposeB ? b.rows : b.cols
    var c = [[Double]](repeating: [Double](repeating: 0, count: n), count: m)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let x = transposeA ? a[p, i] : a[i, p]
                let y = transposeB ? b[j, p] : b[p, j]
                s += Double(x) * Double(y)
            }
            c[i][j] = s
        }
    }
    return c
}

/// Asserts `m` equals `expected` element-wise within `tol * (1 + |expected|)`.
func assertClose(_ m: Matrix, _ expected: [[Double]], tol: Double = 1e-5,
                 _ message: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(m.rows, expected.count, "rows " + message, file: file, line: line)
    guard m.rows == expected.count else { return }
    for i in 0..<m.rows {
        XCTAssertEqual(m.cols, expected[i].count, "cols " + message, file: file, line: line)
        guard m.cols == expected[i].count else { return }
        for j in 0..<m.cols {
            let e = expected[i][j]
            if abs(Double(m[i, j]) - e) > tol * (1 + abs(e)) {
                XCTFail("\(message) (\(i), \(j)): got \(m[i, j]), expected \(e)", file: file, line: line)
                return
            }
        }
    }
}

/// The nested-array form of a matrix, in Double.
func nested(_ m: Matrix) -> [[Double]] {
    (0..<m.rows).map { i in (0..<m.cols).map { Double(m[i, $0]) } }
}

/// Address of a matrix's first element (to check storage reuse or sharing).
func address(_ m: Matrix) -> UnsafePointer<Float>? {
    m.withUnsafeBufferPointer { $0.baseAddress }
}
