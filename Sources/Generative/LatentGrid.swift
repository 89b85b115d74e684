import Foundation
import Linalg

/// Latent codes for figures of a generative model: straight-line interpolations and, for a 2-D
/// latent, the manifold grid of Kingma & Welling 2014, figure 4.
public enum LatentGrid {
    /// `(ends.rows / 2) * steps x ends.cols` codes: for each pair of rows `2s`, `2s + 1` of
    /// `ends`, `steps` points from the first to the second, `(1 - a) z0 + a z1` with
    /// `a = t / (steps - 1)`, `t = 0..<steps` (so the strip starts and ends exactly on them).
    /// - Precondition: `ends.rows` is even, `steps >= 2`.
    public static func interpolations(between ends: Matrix, steps: Int) -> Matrix {
        precondition(ends.rows % 2 == 0 && steps >= 2, "LatentGrid: \(ends.rows) ends, \(steps) steps")
        let strips = ends.rows / 2, l = ends.cols
        var z = Matrix(rows: strips * steps, cols: l)
        for s in 0..<strips {
            for t in 0..<steps {
                let a = Float(t) / Float(steps - 1)
                for j in 0..<l { z[s * steps + t, j] = (1 - a) * ends[2 * s, j] + a * ends[2 * s + 1, j] }
            }
        }
        return z
    }

    /// `side² x 2` latent codes: z = (Φ⁻¹(p_col), Φ⁻¹(p_row)) with p = (i + 0.5) / side, the
    /// standard normal prior's quantiles; row 0 of the grid (top) has the largest z2.
    /// - Precondition: `side >= 1`.
    public static func manifold(side: Int) -> Matrix {
        precondition(side >= 1, "LatentGrid.manifold: side \(side)")
        var z = Matrix(rows: side * side, cols: 2)
        for r in 0..<side {
            for c in 0..<side {
                z[r * side + c, 0] = Float(inverseNormalCDF((Double(c) + 0.5) / Double(side)))
                z[r * side + c, 1] = Float(inverseNormalCDF(1 - (Double(r) + 0.5) / Double(side)))
            }
        }
        return z
    }

    /// Φ⁻¹(p) of the standard normal, by bisection on Φ(z) = erfc(-z/√2)/2 over [-40, 40]
    /// (to ~1e-12). `p` in (0, 1); 0 and 1 give the interval's ends.
    public static func inverseNormalCDF(_ p: Double) -> Double {
        var lo = -40.0, hi = 40.0
        for _ in 0..<200 {
            let mid = 0.5 * (lo + hi)
            if 0.5 * erfc(-mid / 2.0.squareRoot()) < p { lo = mid } else { hi = mid }
        }
        return 0.5 * (lo + hi)
    }
}
