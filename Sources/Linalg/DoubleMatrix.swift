import COpenBLAS

/// A small dense Float64 matrix in row-major order, for statistics that need double precision
/// (covariances, the FID metric). A plain value type over `[Double]`; not for hot loops.
///
/// Shape is `rows x cols`; element `(r, c)` is `elements[r * cols + c]`.
public struct DoubleMatrix: Equatable, Sendable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let cols: Int
    /// The elements, row after row (`rows * cols` of them).
    public var elements: [Double]

    /// A `rows x cols` matrix whose elements, row after row, are `elements`.
    /// - Precondition: `elements.count == rows * cols`.
    public init(rows: Int, cols: Int, elements: [Double]) {
        precondition(rows >= 0 && cols >= 0 && elements.count == rows * cols,
                     "DoubleMatrix: \(elements.count) elements cannot fill \(rows)x\(cols)")
        self.rows = rows
        self.cols = cols
        self.elements = elements
    }

    /// A `rows x cols` matrix of zeros.
    public init(rows: Int, cols: Int) {
        self.init(rows: rows, cols: cols, elements: [Double](repeating: 0, count: rows * cols))
    }

    /// A matrix from nested rows, `[[1, 2], [3, 4]]`; every row must have the same length.
    public init(_ nested: [[Double]]) {
        let c = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == c }, "DoubleMatrix: ragged rows")
        self.init(rows: nested.count, cols: c, elements: nested.flatMap { $0 })
    }

    /// The same values as a Float32 `Matrix`, widened to Double.
    public init(_ m: Matrix) {
        self.init(rows: m.rows, cols: m.cols, elements: m.elements.map(Double.init))
    }

    /// The `n x n` diagonal matrix with `diagonal` on its diagonal.
    public static func diagonal(_ diagonal: [Double]) -> DoubleMatrix {
        let n = diagonal.count
        var m = DoubleMatrix(rows: n, cols: n)
        for i in 0..<n { m.elements[i * n + i] = diagonal[i] }
        return m
    }

    /// The `n x n` identity matrix.
    public static func identity(_ n: Int) -> DoubleMatrix {
        diagonal([Double](repeating: 1, count: n))
    }

    /// Element at row `r`, column `c` (bounds-checked).
    public subscript(r: Int, c: Int) -> Double {
        get {
            precondition(r >= 0 && r < rows && c >= 0 && c < cols,
                         "DoubleMatrix: index (\(r), \(c)) out of \(rows)x\(cols)")
            return elements[r * cols + c]
        }
        set {
            precondition(r >= 0 && r < rows && c >= 0 && c < cols,
                         "DoubleMatrix: index (\(r), \(c)) out of \(rows)x\(cols)")
            elements[r * cols + c] = newValue
        }
    }

    /// The `cols x rows` transpose.
    public func transposed() -> DoubleMatrix {
        var t = DoubleMatrix(rows: cols, cols: rows)
        for i in 0..<rows { for j in 0..<cols { t.elements[j * rows + i] = elements[i * cols + j] } }
        return t
    }

    /// Sum of the diagonal. - Precondition: square.
    public func trace() -> Double {
        precondition(rows == cols, "DoubleMatrix.trace: not square (\(rows)x\(cols))")
        var s = 0.0
        for i in 0..<rows { s += elements[i * cols + i] }
        return s
    }

    /// True when every element is finite.
    public func allFinite() -> Bool { elements.allSatisfy { $0.isFinite } }
}

/// `op(A) * op(B)` in double precision as a new matrix (`cblas_dgemm`, row-major).
///
/// `op(A)` is `m x k`, `op(B)` is `k x n`, the result is `m x n`.
/// - Precondition: the inner dimensions agree.
public func matmul(_ a: DoubleMatrix, _ b: DoubleMatrix,
                   transposeA: Bool = false, transposeB: Bool = false) -> DoubleMatrix {
    let m = transposeA ? a.cols : a.rows
    let k = transposeA ? a.rows : a.cols
    let kb = transposeB ? b.cols : b.rows
    let n = transposeB ? b.rows : b.cols
    precondition(k == kb, "matmul: op(A) is \(m)x\(k) but op(B) is \(kb)x\(n)")
    var c = DoubleMatrix(rows: m, cols: n)
    if m == 0 || n == 0 || k == 0 { return c }
    a.elements.withUnsafeBufferPointer { pa in
        b.elements.withUnsafeBufferPointer { pb in
            c.elements.withUnsafeMutableBufferPointer { pc in
                cblas_dgemm(CblasRowMajor,
                            transposeA ? CblasTrans : CblasNoTrans,
                            transposeB ? CblasTrans : CblasNoTrans,
                            blasint(m), blasint(n), blasint(k), 1,
                            pa.baseAddress, blasint(Swift.max(a.cols, 1)),
                            pb.baseAddress, blasint(Swift.max(b.cols, 1)),
                            0, pc.baseAddress, blasint(Swift.max(n, 1)))
            }
        }
    }
    return c
}
