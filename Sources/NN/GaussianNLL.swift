import Foundation
import Linalg

extension Loss {
    /// Negative log-likelihood of `targets` (`batch x d`) under diagonal Gaussians whose mean
    /// and log-variance are the two halves of each row of `output` (`batch x 2d`: `[mean |
    /// logvar]`), summed over the d values and divided by `reduction`'s divisor (`.batchMean`:
    /// per sample), in nats — the Gaussian decoder of Kingma & Welling 2014, appendix C.2. Per
    /// value, with `r = x - mean`:
    ///
    ///     nll = ½ (log 2π + logvar + r² exp(-logvar))
    ///     ∂/∂mean = -r exp(-logvar),   ∂/∂logvar = ½ (1 - r² exp(-logvar))
    ///
    /// The gradient (`batch x 2d`, same layout) is written into `gradient`; the sum is
    /// accumulated in Double. No allocation once `gradient` is sized.
    /// - Precondition: `output.cols == 2 * targets.cols`, same rows.
    public static func gaussianNLL(output: Matrix, targets: Matrix, reduction: Reduction,
                                   gradient: inout Matrix) -> Float {
        precondition(output.rows == targets.rows && output.cols == 2 * targets.cols,
                     "gaussianNLL: output \(output.rows)x\(output.cols) for targets \(targets.rows)x\(targets.cols)")
        let d = targets.cols
        let scale = 1 / reduction.divisor(rows: targets.rows, cols: d), s = Float(scale)
        gradient.resize(rows: output.rows, cols: output.cols)
        let halfLog2Pi = 0.5 * Foundation.log(2 * Double.pi)
        var total = 0.0
        output.withUnsafeBufferPointer { o in
            targets.withUnsafeBufferPointer { x in
                gradient.withUnsafeMutableBufferPointer { g in
                    for r in 0..<targets.rows {
                        let row = r &* 2 &* d
                        for j in 0..<d {
                            let mean = o[row &+ j], lv = o[row &+ d &+ j]
                            let res = x[r &* d &+ j] - mean, inv = Foundation.exp(-lv)
                            total += halfLog2Pi + 0.5 * Double(lv + res * res * inv)
                            g[row &+ j] = -s * res * inv
                            g[row &+ d &+ j] = s * 0.5 * (1 - res * res * inv)
                        }
                    }
                }
            }
        }
        return Float(total * scale)
    }
}
