// Element-wise and reduction kernels over `Matrix`. Each `into:` form writes a preallocated
// output (resized without allocation when its storage is unshared and large enough); the loops
// use wrapping index arithmetic on raw pointers so that they vectorise.

extension Matrix {
    /// A shared empty `0 x 0` matrix: assigning it to drop a cached reference does not allocate.
    public static let empty = Matrix(rows: 0, cols: 0)

    @inlinable
    static func checkSameShape(_ a: Matrix, _ b: Matrix, _ op: String) {
        precondition(a.rows == b.rows && a.cols == b.cols,
                     "\(op): shapes differ: \(a.rows)x\(a.cols) vs \(b.rows)x\(b.cols)")
    }

    /// `out = a + b` element-wise. - Precondition: equal shapes.
    public static func add(_ a: Matrix, _ b: Matrix, into out: inout Matrix) {
        binary(a, b, into: &out, "add") { $0 + $1 }
    }

    /// `out = a - b` element-wise. - Precondition: equal shapes.
    public static func subtract(_ a: Matrix, _ b: Matrix, into out: inout Matrix) {
        binary(a, b, into: &out, "subtract") { $0 - $1 }
    }

    /// `out = a * b` element-wise (Hadamard product). - Precondition: equal shapes.
    public static func multiply(_ a: Matrix, _ b: Matrix, into out: inout Matrix) {
        binary(a, b, into: &out, "multiply") { $0 * $1 }
    }

    @inlinable
    static func binary(_ a: Matrix, _ b: Matrix, into out: inout Matrix, _ op: String,
                       _ f: (Float, Float) -> Float) {
        checkSameShape(a, b, op)
        out.resize(rows: a.rows, cols: a.cols)
        let n = a.count
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                out.withUnsafeMutableBufferPointer { po in
                    guard let x = pa.baseAddress, let y = pb.baseAddress, let z = po.baseAddress
                    else { return }
                    for i in 0..<n { z[i] = f(x[i], y[i]) }
                }
            }
        }
    }

    /// `out = alpha * a`. No allocation when `out` is unshared and large enough.
    public static func scale(_ a: Matrix, by alpha: Float, into out: inout Matrix) {
        out.resize(rows: a.rows, cols: a.cols)
        let n = a.count
        a.withUnsafeBufferPointer { pa in
            out.withUnsafeMutableBufferPointer { po in
                guard let x = pa.baseAddress, let z = po.baseAddress else { return }
                for i in 0..<n { z[i] = alpha * x[i] }
            }
        }
    }

    /// `self += other` element-wise. - Precondition: equal shapes.
    public mutating func add(_ other: Matrix) {
        Matrix.checkSameShape(self, other, "add")
        let n = count
        other.withUnsafeBufferPointer { pb in
            withUnsafeMutableBufferPointer { pa in
                guard let x = pa.baseAddress, let y = pb.baseAddress else { return }
                for i in 0..<n { x[i] += y[i] }
            }
        }
    }

    /// Adds the `1 x cols` row vector `bias` to every row (a Dense layer's bias).
    /// - Precondition: `bias` is `1 x cols` (or has `cols` elements).
    public mutating func addRowVector(_ bias: Matrix) {
        precondition(bias.count == cols,
                     "addRowVector: bias is \(bias.rows)x\(bias.cols) but matrix is \(rows)x\(cols)")
        let r = rows, c = cols
        bias.withUnsafeBufferPointer { pb in
            withUnsafeMutableBufferPointer { pa in
                guard let x = pa.baseAddress, let b = pb.baseAddress else { return }
                for i in 0..<r {
                    let row = x + i &* c
                    for j in 0..<c { row[j] += b[j] }
                }
            }
        }
    }

    /// Column sums as a `1 x cols` matrix into `out` (a Dense layer's bias gradient).
    /// With `accumulate`, adds to `out`'s current values instead (out must already be `1 x cols`).
    /// Each column sums in row order; a large matrix's columns are split over the row-split
    /// threads (the same bits).
    public static func columnSums(_ a: Matrix, into out: inout Matrix, accumulate: Bool = false) {
        if accumulate {
            precondition(out.count == a.cols,
                         "columnSums: out is \(out.rows)x\(out.cols) but input has \(a.cols) columns")
        } else {
            out.resize(rows: 1, cols: a.cols)
        }
        let r = a.rows, c = a.cols
        a.withUnsafeBufferPointer { pa in
            out.withUnsafeMutableBufferPointer { po in
                guard let z = po.baseAddress else { return }
                if !accumulate { z.update(repeating: 0, count: c) }
                guard let x = pa.baseAddress else { return }
                parallelColumnSums(x, rows: r, cols: c, into: z)
            }
        }
    }

    /// Row sums as a `rows x 1` matrix into `out`.
    public static func rowSums(_ a: Matrix, into out: inout Matrix) {
        out.resize(rows: a.rows, cols: 1)
        let r = a.rows, c = a.cols
        a.withUnsafeBufferPointer { pa in
            out.withUnsafeMutableBufferPointer { po in
                guard let z = po.baseAddress else { return }
                guard let x = pa.baseAddress else { z.update(repeating: 0, count: r); return }
                for i in 0..<r {
                    let row = x + i &* c
                    var s: Float = 0
                    for j in 0..<c { s += row[j] }
                    z[i] = s
                }
            }
        }
    }

    /// Sum of all elements (accumulated in Double, so large matrices keep their precision).
    public func sum() -> Double {
        withUnsafeBufferPointer { p in
            guard let b = p.baseAddress else { return 0 }
            return sumOfElements(b, count: p.count)
        }
    }

    /// Mean of all elements (NaN for an empty matrix).
    public func mean() -> Double { sum() / Double(count) }

    /// The maximum of each row and its column index (the first one on ties).
    /// NaN compares false, so a NaN is never chosen over a number.
    /// - Precondition: `cols > 0`.
    public func rowMax() -> (values: [Float], indices: [Int]) {
        precondition(cols > 0, "rowMax: matrix has no columns")
        var values = [Float](repeating: 0, count: rows)
        var indices = [Int](repeating: 0, count: rows)
        let c = cols
        withUnsafeBufferPointer { p in
            for i in 0..<rows {
                var best = p[i &* c], arg = 0
                for j in 1..<c where p[i &* c &+ j] > best || (best.isNaN && !p[i &* c &+ j].isNaN) {
                    best = p[i &* c &+ j]; arg = j
                }
                values[i] = best; indices[i] = arg
            }
        }
        return (values, indices)
    }

    /// The column index of each row's maximum (`argmax` along columns).
    public func argmaxPerRow() -> [Int] { rowMax().indices }

    /// Clamps every element into `[low, high]` in place; NaN stays NaN.
    public mutating func clamp(low: Float, high: Float) {
        precondition(low <= high, "clamp: low \(low) > high \(high)")
        withUnsafeMutableBufferPointer { p in
            guard let x = p.baseAddress else { return }
            for i in 0..<p.count {
                let v = x[i]
                // Comparisons written so NaN fails both and passes through unchanged.
                x[i] = v < low ? low : (v > high ? high : v)
            }
        }
    }

    /// True when every element is finite (no NaN, no ±inf). A large matrix is checked in parts
    /// over the row-split threads (`ParallelFor`).
    public func allFinite() -> Bool {
        withUnsafeBufferPointer { parallelAllFinite($0) }
    }
}

/// True when every value of `p` is finite (no NaN, no ±inf); true when empty.
@inlinable
public func allFinite(_ p: UnsafeBufferPointer<Float>) -> Bool {
    guard let base = p.baseAddress else { return true }
    // An integer OR reduction vectorises (a Float accumulation would not): it runs over every
    // gradient at every training step in the non-finite guard.
    var bad: UInt32 = 0
    for i in 0..<p.count { bad |= nonFiniteBit(base[i]) }
    return bad == 0
}

/// 1 when `x` is NaN or ±inf, else 0: exactly the values with an all-ones exponent. For
/// OR-reductions over a loop (`allFinite`, or fused into another pass) that vectorise where
/// `isFinite` in a Bool accumulation would not.
@inlinable @inline(__always)
public func nonFiniteBit(_ x: Float) -> UInt32 {
    (x.bitPattern & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0
}

/// Sum of `count` Floats: eight SIMD lanes summed in Float over blocks of 1024 elements, block
/// totals added in Double (a plain `s += p[i]` loop cannot vectorise: Float addition is not
/// reassociated). Relative error about 1e-7 times the block length's square root.
public func sumOfElements(_ p: UnsafePointer<Float>, count n: Int) -> Double {
    var total = 0.0
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i &+ 8 <= n {
        let end = Swift.min(i &+ 1024, n)
        var acc = SIMD8<Float>()
        var j = i
        while j &+ 8 <= end {
            acc += raw.loadUnaligned(fromByteOffset: j &* 4, as: SIMD8<Float>.self)
            j &+= 8
        }
        total += Double(acc.sum())
        i = j
    }
    while i < n { total += Double(p[i]); i &+= 1 }
    return total
}
