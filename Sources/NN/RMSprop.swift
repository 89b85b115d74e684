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
    public let alpha: Float, eps: Float, weightDecay: Float

    public init(parameters: [Parameter], learningRate: Float = 1e-2, alpha: Float = 0.99,
                eps: Float = 1e-8, weightDecay: Float = 0) {
        self.alpha = alpha; self.eps = eps; self.weightDecay = weightDecay
        super.init(parameters: parameters, learningRate: learningRate, stateName: "rmsprop",
                   slotNames: ["square_avg"])
    }

    public override func update(parameter index: Int, value: UnsafeMutableBufferPointer<Float>,
                                gradient: UnsafeBufferPointer<Float>, state: [UnsafeMutablePointer<Float>]) {
        guard let x = value.baseAddress, let g = gradient.baseAddress else { return }
        let s = state[0], lr = learningRate, a = alpha, e = eps, wd = weightDecay
        for i in 0..<value.count {
            let gi = g[i] + wd * x[i]
            let si = a * s[i] + (1 - a) * gi * gi
            s[i] = si
            x[i] -= lr * gi / (fastSqrt(si) + e)   // vectorises (see Adam)
        }
    }
}
