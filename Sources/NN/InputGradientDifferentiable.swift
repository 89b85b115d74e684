import Linalg

/// A layer whose input gradient can itself be differentiated with respect to the layer's
/// parameters ("double backpropagation", Drucker & LeCun 1992), as a gradient penalty on the
/// input gradient needs (WGAN-GP, Gulrajani et al. 2017).
///
/// Notation, per layer, one sample per row: `a = x W + b`, `y = f(a)` (`Dense`; `W` is
/// `inputSize x outputSize`), or `y = f(x)` (`ActivationLayer`). For a scalar network output
/// `D`, the input gradient is computed from the output side down:
///
///     δ = g_out ⊙ f'(a)        (batch x outputSize)
///     g_in = δ Wᵀ              (batch x inputSize)           — differentiableInputGradient
///
/// starting from `g_out = ∂D/∂y = 1` at the last layer, so the first layer's `g_in` is `∇_x D`.
/// Given `ḡ_in = ∂P/∂g_in` for a scalar `P` of the input gradient (the penalty), reverse mode
/// through those two lines, from the input side up, gives
///
///     ∂P/∂W += ḡ_inᵀ δ          (inputSize x outputSize, summed over the batch)
///     ∂P/∂b += 0
///     ḡ_out  = (ḡ_in W) ⊙ f'(a)                              — backwardOfInputGradient
///
/// and a term `ḡ_out ⊙ g_out ⊙ f''(a)` flowing into `a` (hence into `b`, the lower layers'
/// weights and `x`), which is **dropped**. That is exact for the piecewise-linear activations
/// (identity, ReLU, LeakyReLU): `f''(a) = 0` for every `a ≠ 0` (at the kink `a = 0`, a set of
/// measure zero, `f''` does not exist; the masks `f'(a)` are locally constant, which is also
/// what PyTorch's autograd differentiates). So for such networks the penalty's gradient with
/// respect to every bias is 0, and with respect to `W` it is the formula above. Layers with a
/// curved activation (sigmoid, tanh, softplus) report it in `secondOrderProblem`, and users of
/// this protocol refuse them rather than compute a wrong gradient.
///
/// Protocol of use: `forward(x, training:)` (either mode; the derivative `f'` is read from the
/// layer's output buffer), then `differentiableInputGradient(g_out)`, then
/// `backwardOfInputGradient(ḡ_in)` on the same batch. A new `forward` invalidates the cache.
/// `computesInputGradient` is ignored here: computing `g_in` is the point. Parameter gradients
/// accumulate (unless frozen) like `backward`'s; buffers are reused, so at a fixed batch size
/// nothing is allocated.
public protocol InputGradientDifferentiable: Layer {
    /// nil when the double backward above is exact for this layer; otherwise a sentence naming
    /// the layer and why (e.g. its activation has a non-zero second derivative).
    var secondOrderProblem: String? { get }

    /// `g_in = (g_out ⊙ f'(a)) Wᵀ`, `batch x inputSize`, for `gradOutput = g_out`
    /// (`batch x outputSize`) at the last forward's input; keeps `δ` for
    /// `backwardOfInputGradient`.
    /// - Precondition: follows a `forward` on a batch of the same size; `secondOrderProblem` is nil.
    func differentiableInputGradient(_ gradOutput: Matrix) -> Matrix

    /// Given `∂P/∂g_in` (`batch x inputSize`) for the last `differentiableInputGradient`,
    /// accumulates `∂P/∂W` (unless frozen; the bias gets 0) and returns `∂P/∂g_out`
    /// (`batch x outputSize`). Releases the cached `δ`.
    /// - Precondition: follows `differentiableInputGradient` on the same batch.
    func backwardOfInputGradient(_ gradInputGradient: Matrix) -> Matrix
}

extension ActivationKernels {
    /// `out = g ⊙ f'` with `f'` read from the output `y` (same shape); `out` is resized.
    static func multiplyByDerivative(_ g: Matrix, output y: Matrix, into out: inout Matrix,
                                     _ act: Activation) {
        let n = g.count
        out.resize(rows: g.rows, cols: g.cols)
        g.withUnsafeBufferPointer { dy in
            y.withUnsafeBufferPointer { yp in
                out.withUnsafeMutableBufferPointer { dz in
                    guard let dyb = dy.baseAddress, let yb = yp.baseAddress,
                          let dzb = dz.baseAddress else { return }
                    backward(gradOutput: dyb, output: yb, into: dzb, count: n, act)
                }
            }
        }
    }

    /// `g ⊙= f'` in place, `f'` read from the output `y` (same shape). A separate function:
    /// passing one buffer both by value and `inout` would copy it (copy-on-write).
    static func multiplyByDerivativeInPlace(_ g: inout Matrix, output y: Matrix, _ act: Activation) {
        let n = g.count
        y.withUnsafeBufferPointer { yp in
            g.withUnsafeMutableBufferPointer { dz in
                guard let yb = yp.baseAddress, let dzb = dz.baseAddress else { return }
                backward(gradOutput: UnsafePointer(dzb), output: yb, into: dzb, count: n, act)
            }
        }
    }
}
