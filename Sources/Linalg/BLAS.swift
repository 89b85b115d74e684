import COpenBLAS

/// General matrix multiply, `C = alpha * op(A) * op(B) + beta * C`, into a preallocated `C`
/// (BLAS level 3, `cblas_sgemm`, row-major).
///
/// `op(X)` is `X` or `Xᵀ` by `transposeA` / `transposeB`. Shapes: `op(A)` is `m x k`, `op(B)` is
/// `k x n`, `C` is `m x n`. As in BLAS, `beta == 0` means `C`'s old contents are ignored (a NaN
/// there does not propagate). When `m`, `n` or `k` is 0 BLAS is not called: with `k == 0`, `C`
/// becomes `beta * C`. Performs no heap allocation when `C` is not shared.
/// Multi-threaded according to `BLASThreads.threading`.
/// - Precondition: the shapes agree (a programmer error; the message names both shapes).
public func gemm(_ a: Matrix, _ b: Matrix, into c: inout Matrix,
                 transposeA: Bool = false, transposeB: Bool = false,
                 alpha: Float = 1, beta: Float = 0) {
    let m = transposeA ? a.cols : a.rows
    let k = transposeA ? a.rows : a.cols
    let kb = transposeB ? b.cols : b.rows
    let n = transposeB ? b.rows : b.cols
    precondition(k == kb,
                 "gemm: inner dimensions differ: op(A) is \(m)x\(k) (A \(a.rows)x\(a.cols)\(transposeA ? "ᵀ" : "")), op(B) is \(kb)x\(n) (B \(b.rows)x\(b.cols)\(transposeB ? "ᵀ" : ""))")
    precondition(c.rows == m && c.cols == n,
                 "gemm: C is \(c.rows)x\(c.cols) but op(A) op(B) is \(m)x\(n) (A \(a.rows)x\(a.cols), B \(b.rows)x\(b.cols))")
    if m == 0 || n == 0 { return }
    if k == 0 {
        if beta == 0 { c.fill(0) } else if beta != 1 { c.scale(by: beta) }
        return
    }
    let lda = a.leadingDimension, ldb = b.leadingDimension, ldc = c.leadingDimension
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                GEMMThreadingState.run(GEMMCall(
                    transA: transposeA, transB: transposeB, m: m, n: n, k: k,
                    alpha: alpha, beta: beta, a: pa.baseAddress!, lda: lda,
                    b: pb.baseAddress!, ldb: ldb, c: pc.baseAddress!, ldc: ldc))
            }
        }
    }
}

/// `op(A) * op(B)` as a new matrix (allocates; use `gemm(_:_:into:)` in hot loops).
public func matmul(_ a: Matrix, _ b: Matrix,
                   transposeA: Bool = false, transposeB: Bool = false) -> Matrix {
    var c = Matrix(rows: transposeA ? a.cols : a.rows, cols: transposeB ? b.rows : b.cols)
    gemm(a, b, into: &c, transposeA: transposeA, transposeB: transposeB)
    return c
}

/// Matrix-vector product, `y = alpha * op(A) * x + beta * y` (`cblas_sgemv`).
///
/// `x` and `y` are vectors stored as `1 x len` or `len x 1` matrices. `op(A)` is `m x n`,
/// `x` has `n` elements, `y` has `m`. `beta == 0` ignores `y`'s old contents.
/// - Precondition: the lengths agree.
public func gemv(_ a: Matrix, _ x: Matrix, into y: inout Matrix,
                 transposeA: Bool = false, alpha: Float = 1, beta: Float = 0) {
    let m = transposeA ? a.cols : a.rows
    let n = transposeA ? a.rows : a.cols
    precondition(x.count == n && y.count == m,
                 "gemv: op(A) is \(m)x\(n) (A \(a.rows)x\(a.cols)) but x has \(x.count) and y has \(y.count) elements")
    if m == 0 { return }
    if n == 0 {
        if beta == 0 { y.fill(0) } else if beta != 1 { y.scale(by: beta) }
        return
    }
    let ar = a.rows, ac = a.cols, lda = a.leadingDimension
    a.withUnsafeBufferPointer { pa in
        x.withUnsafeBufferPointer { px in
            y.withUnsafeMutableBufferPointer { py in
                cblas_sgemv(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans,
                            blasint(ar), blasint(ac), alpha, pa.baseAddress, blasint(lda),
                            px.baseAddress, 1, beta, py.baseAddress, 1)
            }
        }
    }
}

/// `y += alpha * x` over all elements (`cblas_saxpy`).
/// - Precondition: equal shapes.
public func axpy(alpha: Float, _ x: Matrix, _ y: inout Matrix) {
    precondition(x.rows == y.rows && x.cols == y.cols,
                 "axpy: x is \(x.rows)x\(x.cols) but y is \(y.rows)x\(y.cols)")
    if x.count == 0 { return }
    x.withUnsafeBufferPointer { px in
        y.withUnsafeMutableBufferPointer { py in
            cblas_saxpy(blasint(px.count), alpha, px.baseAddress, 1, py.baseAddress, 1)
        }
    }
}

extension Matrix {
    /// Multiplies every element by `alpha` in place (`cblas_sscal`). No allocation when unshared.
    public mutating func scale(by alpha: Float) {
        if count == 0 { return }
        withUnsafeMutableBufferPointer { p in
            cblas_sscal(blasint(p.count), alpha, p.baseAddress, 1)
        }
    }
}

/// Threads used by `gemm` (and OpenBLAS's other routines).
public enum BLASThreads {
    /// The number of threads `gemm` uses.
    public static var count: Int { threading.threads }

    /// The current threading mode.
    public static var threading: GEMMThreading { GEMMThreadingState.mode.withLock { $0 } }

    /// Sets OpenBLAS's own thread count (`openblas_set_num_threads`); values below 1 become 1.
    public static func set(_ n: Int) { set(.openBLAS(threads: Swift.max(1, n))) }

    /// Sets how `gemm` uses threads (see `GEMMThreading`).
    public static func set(_ mode: GEMMThreading) { GEMMThreadingState.set(mode) }

    /// The number of processors OpenBLAS sees (`openblas_get_num_procs`).
    public static var processors: Int { Int(openblas_get_num_procs()) }
}
