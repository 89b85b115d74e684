import Foundation
import Linalg

/// How a `Dense` layer's weight (and bias) are drawn.
///
/// `fanIn` is the layer's `inputSize`, `fanOut` its `outputSize` (PyTorch's convention for
/// `nn.Linear`, whose weight is `out x in`). Biases are zero except for `pytorchDefault`.
public enum Initializer: Sendable {
    /// `U(-a, a)`, `a = sqrt(6 / (fanIn + fanOut))` (Glorot & Bengio 2010; Xavier uniform).
    case glorotUniform
    /// `N(0, 2 / (fanIn + fanOut))` (Glorot & Bengio 2010; Xavier normal).
    case glorotNormal
    /// `U(-a, a)`, `a = sqrt(6 / fanIn)` (He et al. 2015; `kaiming_uniform_`, ReLU gain).
    case heUniform
    /// `N(0, 2 / fanIn)` (He et al. 2015; `kaiming_normal_`, ReLU gain).
    case heNormal
    /// PyTorch's `nn.Linear.reset_parameters`: `kaiming_uniform_(a: sqrt(5))` for the weight,
    /// which is `U(-1/sqrt(fanIn), 1/sqrt(fanIn))`, and the bias `U(-1/sqrt(fanIn), 1/sqrt(fanIn))`.
    case pytorchDefault
    /// `N(0, std²)` for the weight (e.g. DCGAN's `std: 0.02`), zero bias.
    case normal(std: Float)

    /// A `fanIn x fanOut` weight and a `1 x fanOut` bias drawn from `rng` (weight first).
    public func make(fanIn: Int, fanOut: Int, rng: inout Xoshiro256) -> (weight: Matrix, bias: Matrix) {
        let fi = Float(Swift.max(fanIn, 1)), fo = Float(Swift.max(fanOut, 1))
        let zeroBias = Matrix(rows: 1, cols: fanOut)
        switch self {
        case .glorotUniform:
            let a = (6 / (fi + fo)).squareRoot()
            return (Matrix.uniform(rows: fanIn, cols: fanOut, low: -a, high: a, using: &rng), zeroBias)
        case .glorotNormal:
            let s = (2 / (fi + fo)).squareRoot()
            return (Matrix.normal(rows: fanIn, cols: fanOut, std: s, using: &rng), zeroBias)
        case .heUniform:
            let a = (6 / fi).squareRoot()
            return (Matrix.uniform(rows: fanIn, cols: fanOut, low: -a, high: a, using: &rng), zeroBias)
        case .heNormal:
            let s = (2 / fi).squareRoot()
            return (Matrix.normal(rows: fanIn, cols: fanOut, std: s, using: &rng), zeroBias)
        case .pytorchDefault:
            let a = 1 / fi.squareRoot()
            let w = Matrix.uniform(rows: fanIn, cols: fanOut, low: -a, high: a, using: &rng)
            let b = Matrix.uniform(rows: 1, cols: fanOut, low: -a, high: a, using: &rng)
            return (w, b)
        case .normal(let std):
            return (Matrix.normal(rows: fanIn, cols: fanOut, std: std, using: &rng), zeroBias)
        }
    }
}
