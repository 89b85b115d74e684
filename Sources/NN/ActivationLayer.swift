import Linalg

/// An activation on its own: `Y = f(X)`, element-wise, same shape (`batch x features`).
///
/// Holds no parameters. Backward takes the derivative from its own output buffer (see
/// `Activation`), so it keeps no reference to the caller's input.
public final class ActivationLayer: Layer {
    /// The function applied.
    public let activation: Activation
    /// No parameters: has no effect, kept for `Layer`.
    public var isFrozen: Bool = false
    /// When false, backward returns `Matrix.empty`.
    public var computesInputGradient: Bool = true

    // Internal, not private: the double backward (ActivationSecondOrder.swift) uses them.
    var output = Matrix.empty
    var inputGradient = Matrix.empty
    /// `batch x features`: the result of `backwardOfInputGradient`.
    var secondOrderOutputGradient = Matrix.empty
    var hasSecondOrderCache = false
    private var hasCache = false

    /// - Precondition: a `leakyReLU` slope is `>= 0`.
    public init(_ activation: Activation) {
        precondition(activation.derivativeFromOutputIsValid,
                     "ActivationLayer: leakyReLU needs negativeSlope >= 0, got \(activation)")
        self.activation = activation
    }

    public var parameters: [Parameter] { [] }

    public func forward(_ x: Matrix, training: Bool) -> Matrix {
        output.resize(rows: x.rows, cols: x.cols)
        let n = x.count, act = activation
        x.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                ActivationKernels.apply(s, into: d, count: n, act)
            }
        }
        hasCache = training
        hasSecondOrderCache = false
        return output
    }

    public func backward(_ gradOutput: Matrix) -> Matrix {
        precondition(hasCache, "ActivationLayer: backward without a training forward")
        precondition(gradOutput.rows == output.rows && gradOutput.cols == output.cols,
                     "ActivationLayer: gradOutput is \(gradOutput.rows)x\(gradOutput.cols) but output is \(output.rows)x\(output.cols)")
        hasCache = false
        guard computesInputGradient else { return .empty }
        inputGradient.resize(rows: gradOutput.rows, cols: gradOutput.cols)
        let n = gradOutput.count, act = activation
        gradOutput.withUnsafeBufferPointer { dy in
            output.withUnsafeBufferPointer { y in
                inputGradient.withUnsafeMutableBufferPointer { dx in
                    guard let dyb = dy.baseAddress, let yb = y.baseAddress,
                          let dxb = dx.baseAddress else { return }
                    ActivationKernels.backward(gradOutput: dyb, output: yb, into: dxb, count: n, act)
                }
            }
        }
        return inputGradient
    }

    public func releaseCaches() {
        hasCache = false
        hasSecondOrderCache = false
    }
}
