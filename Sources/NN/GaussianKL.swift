import Foundation
import Linalg

/// The gradients of `Loss.gaussianKL(mu:logvar:priorMu:priorLogvar:...)`, one per input, same
/// shapes (buffers reused: pass the same instance every step).
public struct GaussianKLGradients {
    public var mu = Matrix.empty
    public var logvar = Matrix.empty
    public var priorMu = Matrix.empty
    public var priorLogvar = Matrix.empty
    public init() {}
}

extension Loss {
    /// `KL(N(mu, exp(logvar)) || N(priorMu, exp(priorLogvar)))` between diagonal Gaussians,
    /// summed over the elements and divided by `reduction`'s divisor (`.batchMean`: per
    /// sample), with its gradient with respect to all four inputs. Per element, with
    /// `d = mu - priorMu` (e.g. Kingma & Welling 2014, appendix B, for a general Gaussian prior):
    ///
    ///     KL   = ½ (priorLogvar - logvar + (exp(logvar) + d²) exp(-priorLogvar) - 1)
    ///     ∂/∂mu = d exp(-priorLogvar)                      = -∂/∂priorMu
    ///     ∂/∂logvar = ½ (exp(logvar - priorLogvar) - 1)
    ///     ∂/∂priorLogvar = ½ (1 - (exp(logvar) + d²) exp(-priorLogvar))
    ///
    /// With `priorMu = 0`, `priorLogvar = 0` it is `gaussianKL(mu:logvar:...)`. The sum is
    /// accumulated in Double. No allocation once `gradients` is sized.
    /// - Precondition: all four are the same shape.
    public static func gaussianKL(mu: Matrix, logvar: Matrix, priorMu: Matrix, priorLogvar: Matrix,
                                  reduction: Reduction, gradients g: inout GaussianKLGradients) -> Float {
        checkShapes(mu, logvar, "gaussianKL")
        checkShapes(mu, priorMu, "gaussianKL prior mu")
        checkShapes(mu, priorLogvar, "gaussianKL prior logvar")
        let scale = 1 / reduction.divisor(rows: mu.rows, cols: mu.cols), s = Float(scale)
        g.mu.resize(rows: mu.rows, cols: mu.cols)
        g.logvar.resize(rows: mu.rows, cols: mu.cols)
        g.priorMu.resize(rows: mu.rows, cols: mu.cols)
        g.priorLogvar.resize(rows: mu.rows, cols: mu.cols)
        var total = 0.0
        mu.withUnsafeBufferPointer { m in logvar.withUnsafeBufferPointer { l in
            priorMu.withUnsafeBufferPointer { pm in priorLogvar.withUnsafeBufferPointer { pl in
                g.mu.withUnsafeMutableBufferPointer { dm in g.logvar.withUnsafeMutableBufferPointer { dl in
                    g.priorMu.withUnsafeMutableBufferPointer { dpm in g.priorLogvar.withUnsafeMutableBufferPointer { dpl in
                        for i in 0..<m.count {
                            let d = m[i] - pm[i], inv = Foundation.exp(-pl[i]), v = Foundation.exp(l[i])
                            let ratio = (v + d * d) * inv
                            total += 0.5 * Double(pl[i] - l[i] + ratio - 1)
                            dm[i] = s * d * inv
                            dpm[i] = -dm[i]
                            dl[i] = s * 0.5 * (v * inv - 1)
                            dpl[i] = s * 0.5 * (1 - ratio)
                        }
                    } }
                } }
            } }
        } }
        return Float(total * scale)
    }
}
