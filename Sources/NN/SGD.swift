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
    public let parameters: [Parameter]
    public var learningRate: Float
    public let momentum: Float, nesterov: Bool, weightDecay: Float
    public private(set) var stepCount: Int = 0
    private var buffers: [Matrix]
    /// Whether each momentum buffer has been initialised (torch starts it as a copy of `g`).
    private var started: [Bool]

    /// - Precondition: `nesterov` requires `momentum > 0` (as torch).
    public init(parameters: [Parameter], learningRate: Float, momentum: Float = 0,
                nesterov: Bool = false, weightDecay: Float = 0) {
        precondition(!nesterov || momentum > 0, "SGD: nesterov requires momentum > 0")
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum; self.nesterov = nesterov; self.weightDecay = weightDecay
        buffers = momentum != 0 ? OptimizerState.zeros(like: parameters) : []
        started = Array(repeating: false, count: parameters.count)
    }

    public func step() {
        stepCount += 1
        let lr = learningRate, mu = momentum, wd = weightDecay, nest = nesterov
        for k in parameters.indices {
            let p = parameters[k]
            if p.isFrozen { continue }
            if mu == 0 {
                p.gradient.withUnsafeBufferPointer { pg in
                    p.value.withUnsafeMutableBufferPointer { pv in
                        guard let g = pg.baseAddress, let x = pv.baseAddress else { return }
                        for i in 0..<pv.count { x[i] -= lr * (g[i] + wd * x[i]) }
                    }
                }
                continue
            }
            let first = !started[k]
            started[k] = true
            p.gradient.withUnsafeBufferPointer { pg in
                p.value.withUnsafeMutableBufferPointer { pv in
                    buffers[k].withUnsafeMutableBufferPointer { pb in
                        guard let g = pg.baseAddress, let x = pv.baseAddress, let b = pb.baseAddress
                        else { return }
                        for i in 0..<pv.count {
                            let gi = g[i] + wd * x[i]
                            let bi = first ? gi : mu * b[i] + gi
                            b[i] = bi
                            x[i] -= lr * (nest ? gi + mu * bi : bi)
                        }
                    }
                }
            }
        }
    }

    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    public func stateTensors() -> [(name: String, tensor: Matrix)] {
        OptimizerState.tensors([("sgd.momentum", buffers)])
    }

    /// A positive `stepCount` marks every momentum buffer as started.
    public func loadState(_ tensors: [String: Matrix], stepCount: Int) throws {
        try OptimizerState.validate(tensors, [("sgd.momentum", buffers)], stepCount: stepCount)
        OptimizerState.copy(tensors, prefix: "sgd.momentum", into: &buffers)
        self.stepCount = stepCount
        for k in started.indices { started[k] = stepCount > 0 }
    }
}
