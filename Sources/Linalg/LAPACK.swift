import COpenBLAS

// LAPACKE wrappers (row-major). Each copies its input, calls the routine once and turns `info`
// into a `LAPACKError`. LAPACKE allocates work memory itself: these are not for hot loops.

@inline(__always)
private func ascii(_ c: Unicode.Scalar) -> CChar { CChar(truncatingIfNeeded: UInt8(ascii: c)) }

/// Eigen-decomposition of a symmetric `n x n` matrix, `A = V diag(values) Vᵀ`
/// (LAPACK `ssyevd`, divide and conquer).
///
/// Only the lower triangle of `a` is read. `values` are ascending; column `i` of the `n x n`
/// matrix `vectors` is the unit eigenvector for `values[i]` (so `V` is orthogonal).
/// - Throws: `LAPACKError.nonFiniteInput` for NaN/inf, `.noConvergence` if `ssyevd` fails.
/// - Precondition: `a` is square.
public func symmetricEigen(_ a: Matrix) throws(LAPACKError) -> (values: [Float], vectors: Matrix) {
    precondition(a.rows == a.cols, "symmetricEigen: matrix is \(a.rows)x\(a.cols), not square")
    let n = a.rows
    guard a.allFinite() else { throw .nonFiniteInput(routine: "ssyevd") }
    var v = a
    var w = [Float](repeating: 0, count: n)
    if n == 0 { return (w, v) }
    let info = v.withUnsafeMutableBufferPointer { pv in
        w.withUnsafeMutableBufferPointer { pw in
            LAPACKE_ssyevd(LAPACK_ROW_MAJOR, ascii("V"), ascii("L"), Int32(n),
                           pv.baseAddress, Int32(n), pw.baseAddress)
        }
    }
    try LAPACKError.check(info, "ssyevd") { .noConvergence(routine: "ssyevd", info: $0) }
    return (w, v)
}

/// Eigen-decomposition of a symmetric `n x n` matrix in double precision,
/// `A = V diag(values) Vᵀ` (LAPACK `dsyevd`). Same conventions as the Float version:
/// lower triangle read, ascending `values`, eigenvectors in the columns of `vectors`.
/// - Throws: `LAPACKError.nonFiniteInput` for NaN/inf, `.noConvergence` if `dsyevd` fails.
/// - Precondition: `a` is square.
public func symmetricEigen(_ a: DoubleMatrix) throws(LAPACKError)
    -> (values: [Double], vectors: DoubleMatrix)
{
    var v = a
    let w = try dsyevd(&v, vectors: true)
    return (w, v)
}

/// The ascending eigenvalues of a symmetric `n x n` matrix (LAPACK `dsyevd` without vectors,
/// cheaper than `symmetricEigen`). Only the lower triangle is read.
/// - Throws: `LAPACKError.nonFiniteInput` for NaN/inf, `.noConvergence` if `dsyevd` fails.
/// - Precondition: `a` is square.
public func symmetricEigenvalues(_ a: DoubleMatrix) throws(LAPACKError) -> [Double] {
    var v = a
    return try dsyevd(&v, vectors: false)
}

/// Runs `dsyevd` in place on `a` (overwritten by the eigenvectors when `vectors`).
private func dsyevd(_ a: inout DoubleMatrix, vectors: Bool) throws(LAPACKError) -> [Double] {
    precondition(a.rows == a.cols, "symmetricEigen: matrix is \(a.rows)x\(a.cols), not square")
    let n = a.rows
    guard a.allFinite() else { throw .nonFiniteInput(routine: "dsyevd") }
    var w = [Double](repeating: 0, count: n)
    if n == 0 { return w }
    let info = a.elements.withUnsafeMutableBufferPointer { pa in
        w.withUnsafeMutableBufferPointer { pw in
            LAPACKE_dsyevd(LAPACK_ROW_MAJOR, ascii(vectors ? "V" : "N"), ascii("L"), Int32(n),
                           pa.baseAddress, Int32(n), pw.baseAddress)
        }
    }
    try LAPACKError.check(info, "dsyevd") { .noConvergence(routine: "dsyevd", info: $0) }
    return w
}

/// Cholesky factor of a symmetric positive-definite `n x n` matrix: the lower-triangular `L`
/// with `A = L Lᵀ` (LAPACK `spotrf`). Only the lower triangle of `a` is read; `L` has zeros
/// above the diagonal.
/// - Throws: `LAPACKError.notPositiveDefinite(routine: "spotrf", order:)` when the leading
///   minor of that order is not positive definite; `.nonFiniteInput` for NaN/inf.
/// - Precondition: `a` is square.
public func cholesky(_ a: Matrix) throws(LAPACKError) -> Matrix {
    precondition(a.rows == a.cols, "cholesky: matrix is \(a.rows)x\(a.cols), not square")
    let n = a.rows
    guard a.allFinite() else { throw .nonFiniteInput(routine: "spotrf") }
    var l = a
    if n == 0 { return l }
    let info = l.withUnsafeMutableBufferPointer { p in
        let info = LAPACKE_spotrf(LAPACK_ROW_MAJOR, ascii("L"), Int32(n), p.baseAddress, Int32(n))
        // potrf leaves the strict upper triangle untouched: clear it so the result is L.
        for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { p[i &* n &+ j] = 0 } }
        return info
    }
    try LAPACKError.check(info, "spotrf") { .notPositiveDefinite(routine: "spotrf", order: $0) }
    return l
}

/// Cholesky factor in double precision, `A = L Lᵀ` (LAPACK `dpotrf`); as the Float version.
/// - Throws: `LAPACKError.notPositiveDefinite(routine: "dpotrf", order:)`, `.nonFiniteInput`.
/// - Precondition: `a` is square.
public func cholesky(_ a: DoubleMatrix) throws(LAPACKError) -> DoubleMatrix {
    precondition(a.rows == a.cols, "cholesky: matrix is \(a.rows)x\(a.cols), not square")
    let n = a.rows
    guard a.allFinite() else { throw .nonFiniteInput(routine: "dpotrf") }
    var l = a
    if n == 0 { return l }
    let info = l.elements.withUnsafeMutableBufferPointer { p in
        let info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, ascii("L"), Int32(n), p.baseAddress, Int32(n))
        for i in 0..<n { for j in (i + 1)..<Swift.max(i + 1, n) { p[i * n + j] = 0 } }
        return info
    }
    try LAPACKError.check(info, "dpotrf") { .notPositiveDefinite(routine: "dpotrf", order: $0) }
    return l
}

/// Solves `A X = B` for `X` by LU with partial pivoting (LAPACK `sgesv`).
///
/// `a` is `n x n`, `b` is `n x nrhs` (one right-hand side per column); returns `X`, `n x nrhs`.
/// - Throws: `LAPACKError.singular(routine: "sgesv", index:)` when `U(i, i)` is exactly zero;
///   `.nonFiniteInput` for NaN/inf.
/// - Precondition: `a` is square and `b.rows == a.rows`.
public func solve(_ a: Matrix, _ b: Matrix) throws(LAPACKError) -> Matrix {
    precondition(a.rows == a.cols, "solve: A is \(a.rows)x\(a.cols), not square")
    precondition(b.rows == a.rows, "solve: A is \(a.rows)x\(a.cols) but B is \(b.rows)x\(b.cols)")
    guard a.allFinite() && b.allFinite() else { throw .nonFiniteInput(routine: "sgesv") }
    let n = a.rows, nrhs = b.cols
    var lu = a
    var x = b
    if n == 0 || nrhs == 0 { return x }
    var pivots = [Int32](repeating: 0, count: n)
    let info = lu.withUnsafeMutableBufferPointer { pa in
        x.withUnsafeMutableBufferPointer { px in
            pivots.withUnsafeMutableBufferPointer { pp in
                LAPACKE_sgesv(LAPACK_ROW_MAJOR, Int32(n), Int32(nrhs), pa.baseAddress, Int32(n),
                              pp.baseAddress, px.baseAddress, Int32(nrhs))
            }
        }
    }
    try LAPACKError.check(info, "sgesv") { .singular(routine: "sgesv", index: $0) }
    return x
}
