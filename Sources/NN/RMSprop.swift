import Linalg

/// RMSprop (Hinton, Coursera lecture 6e), the same update as `torch.optim.RMSprop`
/// (centered false, momentum 0):
/// ```
/// g = grad + weightDecay * p
/// s = alpha s + (1 - alpha) g²
/// p -= lr * g / (sqrt(s) + eps)
/// ```
/// State: `rmsprop.square_avg.i`.
public final class RMSprop: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let alpha: Float, eps: Float, weightDecay: Float
    public private(set) var stepCount: Int = 0
    private var squareAverages: [Matrix]

    public init(parameters: [Parameter], learningRate: Float = 1e-2, alpha: Float = 0.99,
                eps: Float = 1e-8, weightDecay: Float = 0) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.alpha = alpha; self.eps = eps; self.weightDecay = weightDecay
        squareAverages = OptimizerState.zeros(like: parameters)
    }

    public func step() {
        stepCount += 1
        let lr = learningRate, a = alpha, e = eps, wd = weightDecay
        for k in parameters.indices {
            let p = parameters[k]
            if p.isFrozen { continue }
            p.gradient.withUnsafeBufferPointer { pg in
                p.value.withUnsafeMutableBufferPointer { pv in
                    squareAverages[k].withUnsafeMutableBufferPointer { ps in
                        guard let g = pg.baseAddress, let x = pv.baseAddress, let s = ps.baseAddress
                        else { return }
                        for i in 0..<pv.count {
                            let gi = g[i] + wd * x[i]
                            let si = a * s[i] + (1 - a) * gi * gi
                            s[i] = si
                            x[i] -= lr * gi / (fastSqrt(si) + e)   // vectorises (see Adam)
                        }
                    }
                }
            }
        }
    }

    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    public func stateTensors() -> [(name: String, tensor: Matrix)] {
        OptimizerState.tensors([("rmsprop.square_avg", squareAverages)])
    }

    public func loadState(_ tensors: [String: Matrix], stepCount: Int) throws {
        try OptimizerState.validate(tensors, [("rmsprop.square_avg", squareAverages)], stepCount: stepCount)
        OptimizerState.copy(tensors, prefix: "rmsprop.square_avg", into: &squareAverages)
        self.stepCount = stepCount
    }
}
