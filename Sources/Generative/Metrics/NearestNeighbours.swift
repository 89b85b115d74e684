import Linalg

/// Each query's nearest reference row in Euclidean (L2) distance, computed blockwise with gemm
/// through `|a - b|² = |a|² + |b|² - 2 a·b` (the squared distance is clamped at 0 before the
/// square root, since Float round-off can make it slightly negative for near-identical rows).
///
/// - Parameters:
///   - queries: `n x d`, one vector per row (e.g. generated samples).
///   - references: `m x d` (e.g. the training images), `m >= 1`.
///   - chunk: query rows per gemm; the work buffer is `chunk x m` Floats.
/// - Returns: per query, the distance to (same units as the inputs) and index of its nearest
///   reference (the first one on ties).
/// - Precondition: same `d`, `m >= 1`, `chunk >= 1`.
public func nearestNeighbours(queries: Matrix, references: Matrix, chunk: Int = 256)
    -> (distances: [Float], indices: [Int])
{
    precondition(queries.cols == references.cols,
                 "nearestNeighbours: queries have \(queries.cols) columns, references \(references.cols)")
    precondition(references.rows >= 1 && chunk >= 1, "nearestNeighbours: no references or chunk < 1")
    let n = queries.rows, m = references.rows
    let refNorms = rowSquaredNorms(references)
    let queryNorms = rowSquaredNorms(queries)
    var distances = [Float](repeating: 0, count: n)
    var indices = [Int](repeating: 0, count: n)
    var dots = Matrix.empty
    var start = 0
    while start < n {
        let end = Swift.min(start + chunk, n)
        dots.resize(rows: end - start, cols: m)
        gemm(queries.rows(start..<end), references, into: &dots, transposeB: true)
        dots.withUnsafeBufferPointer { p in
            refNorms.withUnsafeBufferPointer { rn in
                for i in 0..<(end - start) {
                    let row = p.baseAddress! + i &* m
                    // argmin_j |b_j|² - 2 a·b_j; |a|² is constant along the row.
                    var best = rn[0] - 2 * row[0], bestJ = 0
                    for j in 1..<m {
                        let v = rn[j] - 2 * row[j]
                        if v < best { best = v; bestJ = j }
                    }
                    distances[start + i] = Swift.max(queryNorms[start + i] + best, 0).squareRoot()
                    indices[start + i] = bestJ
                }
            }
        }
        start = end
    }
    return (distances, indices)
}

/// `|row|²` for every row of `x`, accumulated in Double.
func rowSquaredNorms(_ x: Matrix) -> [Float] {
    var out = [Float](repeating: 0, count: x.rows)
    let d = x.cols
    x.withUnsafeBufferPointer { p in
        for i in 0..<x.rows {
            var s = 0.0
            for j in 0..<d { let v = Double(p[i &* d &+ j]); s += v * v }
            out[i] = Float(s)
        }
    }
    return out
}

/// The `q`-quantile (`q` in [0, 1]) of `values` with linear interpolation between order
/// statistics (numpy's default `method="linear"`). - Precondition: `values` is not empty.
public func quantile(_ values: [Float], _ q: Double) -> Double {
    precondition(!values.isEmpty, "quantile: no values")
    let s = values.sorted()
    let pos = Swift.min(Swift.max(q, 0), 1) * Double(s.count - 1)
    let lo = Int(pos), hi = Swift.min(lo + 1, s.count - 1)
    let f = pos - Double(lo)
    return Double(s[lo]) * (1 - f) + Double(s[hi]) * f
}
