import Linalg

// The double backward of the layers (formulas and conventions: InputGradientDifferentiable).

extension Dense: InputGradientDifferentiable {
    /// nil for identity, ReLU and LeakyReLU; otherwise names the layer and its activation.
    public var secondOrderProblem: String? {
        activation.isPiecewiseLinear ? nil
            : "Dense \(inputSize)->\(outputSize) with \(activation): its second derivative is not zero"
    }

    /// `δ = g_out ⊙ f'(a)`, kept; returns `g_in = δ Wᵀ` (`batch x inputSize`, the layer's
    /// input-gradient buffer).
    public func differentiableInputGradient(_ gradOutput: Matrix) -> Matrix {
        precondition(activation.isPiecewiseLinear, "Dense: no exact double backward through \(activation)")
        precondition(gradOutput.rows == output.rows && gradOutput.cols == outputSize,
                     "Dense: gradOutput is \(gradOutput.rows)x\(gradOutput.cols) but output is \(output.rows)x\(output.cols)")
        ActivationKernels.multiplyByDerivative(gradOutput, output: output, into: &secondOrderDelta, activation)
        inputGradient.resize(rows: gradOutput.rows, cols: inputSize)
        gemm(secondOrderDelta, weight.value, into: &inputGradient, transposeB: true)
        hasSecondOrderCache = true
        return inputGradient
    }

    /// `∂P/∂W += ḡ_inᵀ δ` (unless frozen; the bias gets nothing: `∂P/∂b = 0`); returns
    /// `ḡ_out = (ḡ_in W) ⊙ f'(a)` (`batch x outputSize`).
    public func backwardOfInputGradient(_ gradInputGradient: Matrix) -> Matrix {
        precondition(hasSecondOrderCache, "Dense: backwardOfInputGradient without differentiableInputGradient")
        precondition(gradInputGradient.rows == secondOrderDelta.rows && gradInputGradient.cols == inputSize,
                     "Dense: gradInputGradient is \(gradInputGradient.rows)x\(gradInputGradient.cols), expected \(secondOrderDelta.rows)x\(inputSize)")
        hasSecondOrderCache = false
        if !isFrozen {
            gemm(gradInputGradient, secondOrderDelta, into: &weight.gradient, transposeA: true, beta: 1)
        }
        secondOrderOutputGradient.resize(rows: gradInputGradient.rows, cols: outputSize)
        gemm(gradInputGradient, weight.value, into: &secondOrderOutputGradient)
        ActivationKernels.multiplyByDerivativeInPlace(&secondOrderOutputGradient, output: output, activation)
        return secondOrderOutputGradient
    }
}

extension ActivationLayer: InputGradientDifferentiable {
    /// nil for identity, ReLU and LeakyReLU; otherwise names the activation.
    public var secondOrderProblem: String? {
        activation.isPiecewiseLinear ? nil
            : "\(activation) activation layer: its second derivative is not zero"
    }

    /// `g_in = g_out ⊙ f'(x)` (no weights: `δ` is `g_in` itself).
    public func differentiableInputGradient(_ gradOutput: Matrix) -> Matrix {
        precondition(activation.isPiecewiseLinear, "ActivationLayer: no exact double backward through \(activation)")
        precondition(gradOutput.rows == output.rows && gradOutput.cols == output.cols,
                     "ActivationLayer: gradOutput is \(gradOutput.rows)x\(gradOutput.cols) but output is \(output.rows)x\(output.cols)")
        ActivationKernels.multiplyByDerivative(gradOutput, output: output, into: &inputGradient, activation)
        hasSecondOrderCache = true
        return inputGradient
    }

    /// `ḡ_out = ḡ_in ⊙ f'(x)`; no parameters.
    public func backwardOfInputGradient(_ gradInputGradient: Matrix) -> Matrix {
        precondition(hasSecondOrderCache, "ActivationLayer: backwardOfInputGradient without differentiableInputGradient")
        precondition(gradInputGradient.rows == output.rows && gradInputGradient.cols == output.cols,
                     "ActivationLayer: gradInputGradient is \(gradInputGradient.rows)x\(gradInputGradient.cols) but output is \(output.rows)x\(output.cols)")
        hasSecondOrderCache = false
        ActivationKernels.multiplyByDerivative(gradInputGradient, output: output,
                                               into: &secondOrderOutputGradient, activation)
        return secondOrderOutputGradient
    }
}

extension Sequential: InputGradientDifferentiable {
    /// nil when every layer has an exact double backward; otherwise the first layer that has
    /// not (by index), and why.
    public var secondOrderProblem: String? {
        for (i, layer) in layers.enumerated() {
            guard let l = layer as? any InputGradientDifferentiable else {
                return "layer \(i) (\(type(of: layer))) has no double backward"
            }
            if let p = l.secondOrderProblem { return "layer \(i): \(p)" }
        }
        return nil
    }

    /// The layers' input gradients chained from the last layer to the first.
    public func differentiableInputGradient(_ gradOutput: Matrix) -> Matrix {
        guard let chain = secondOrderLayers else {
            preconditionFailure("Sequential: \(secondOrderProblem ?? "no double backward")")
        }
        var g = gradOutput
        var i = chain.count - 1
        while i >= 0 {
            g = chain[i].differentiableInputGradient(g)
            i -= 1
        }
        return g
    }

    /// The layers' double backward from the first layer to the last (the reverse of
    /// `differentiableInputGradient`'s order); returns `∂P/∂g_out` of the last layer.
    public func backwardOfInputGradient(_ gradInputGradient: Matrix) -> Matrix {
        guard let chain = secondOrderLayers else {
            preconditionFailure("Sequential: \(secondOrderProblem ?? "no double backward")")
        }
        var g = gradInputGradient
        for l in chain { g = l.backwardOfInputGradient(g) }
        return g
    }
}
