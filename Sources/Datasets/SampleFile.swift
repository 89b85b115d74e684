import Foundation
import Linalg

extension NPY {
    /// Reads a file of generated samples (`N x width`, `N >= 2`, float32 or uint8 as
    /// `readMatrix` reads them) whose values lie in `range`, and maps them to [0, 1]
    /// (`Matrix.mapRange`; a tanh generator's [-1, 1] becomes `(x + 1) / 2`). Values within
    /// 1e-3 outside `range` (round-off of the writer) are clamped to it first.
    /// - Returns: `N x width` values in [0, 1].
    /// - Throws: `DatasetError` naming the file when it does not parse, has another shape, or
    ///   holds a value (NaN included) further outside `range`.
    /// - Precondition: `range` has positive width.
    public static func readSamples(contentsOf url: URL, range: ClosedRange<Float>, width: Int) throws -> Matrix {
        var x = try readMatrix(contentsOf: url)
        guard x.cols == width, x.rows >= 2 else {
            throw DatasetError(path: url.path, problem: "expected N x \(width) samples (N >= 2), got \(x.rows)x\(x.cols)")
        }
        let (lo, hi) = (range.lowerBound, range.upperBound)
        var bad: Float? = nil
        x.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count {
                if !(p[i] >= lo - 1e-3 && p[i] <= hi + 1e-3) { bad = p[i]; break }
                p[i] = min(max(p[i], lo), hi)
            }
        }
        if let bad {
            throw DatasetError(path: url.path, problem: "value \(bad) outside the samples' range [\(lo), \(hi)]")
        }
        x.mapRange(from: range, to: 0...1)
        return x
    }
}
