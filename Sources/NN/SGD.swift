import Linalg

/// Stochastic gradient descent with optional momentum and Nesterov momentum, the same update
/// as `torch.optim.SGD` (dampening 0):
/// ```
/// g = grad + weightDecay * p
/// b = g on a parameter's first step, else momentum * b + g        (momentum != 0)
/// g = nesterov ? g + momentum * b : b                               (momentum != 0)
/// p -= lr * g
/// ```
/// (Sutskever et al. 2013 for the Nesterov form.) State: `sgd.momentum.i` (only when
/// momentum != 0).
public final class SGD: Optimizer {
    public let momentum: Float, nesterov: Bool, weightDecay: Float
    /// Whether each momentum buffer has been initialised (torch starts it as a copy of `g`).
    private var started: [Bool]

    /// - Precondition: `nesterov` requires `momentum > 0` (as torch).
    public init(parameters: [Parameter], learningRate: Float, momentum: Float = 0,
                nesterov: Bool = false, weightDecay: Float = 0) {
        precondition(!nesterov || momentum > 0, "SGD: nesterov requires momentum > 0")
        self.momentum = momentum; self.nesterov = nesterov; self.weightDecay = weightDecay
        started = Array(repeating: false, count: parameters.count)
        super.init(parameters: parameters, learningRate: learningRate, stateName: "sgd",
                   slotNames: momentum != 0 ? ["momentum"] : [])
    }

    public override func update(parameter k: Int, value: UnsafeMutableBufferPointer<Float>,
                                gradient: UnsafeBufferPointer<Float>, state: [UnsafeMutablePointer<Float>]) {
        guard let x = value.baseAddress, let g = gradient.baseAddress else { return }
        let lr = learningRate, mu = momentum, wd = weightDecay, nest = nesterov
        if mu == 0 {
            for i in 0..<value.count { x[i] -= lr * (g[i] + wd * x[i]) }
            return
        }
        let first = !started[k]
        started[k] = true
        let b = state[0]
        for i in 0..<value.count {
            let gi = g[i] + wd * x[i]
            let bi = first ? gi : mu * b[i] + gi
            b[i] = bi
            x[i] -= lr * (nest ? gi + mu * bi : bi)
        }
    }

    /// A restored run continues from its saved momentum buffers (torch keeps them in
    /// `state_dict`), so they count as started once any step was taken.
    public override func didLoadState() {
        for k in started.indices { started[k] = stepCount > 0 }
    }
}
