import Foundation
import Linalg

/// Adam (Kingma & Ba 2015, Algorithm 1, with bias correction), the same update as
/// `torch.optim.Adam`:
/// ```
/// g = grad (+ weightDecay * p unless decoupled)          // L2 penalty, as torch's Adam
/// p *= 1 - lr * weightDecay       (decoupled only)        // AdamW (Loshchilov & Hutter 2019)
/// m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g²
/// p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)   // eps outside the sqrt
/// ```
/// `t` is the optimiser's `stepCount` after increment (shared by all parameters; a parameter
/// that was frozen for some steps still uses the global `t`). State: `adam.m.i`, `adam.v.i`.
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    /// True: AdamW's decoupled decay; false: L2 added to the gradient (torch's `Adam`).
    public let decoupledWeightDecay: Bool
    public private(set) var stepCount: Int = 0
    private var m: [Matrix]
    private var v: [Matrix]

    public init(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9,
                beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0,
                decoupledWeightDecay: Bool = false) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        m = OptimizerState.zeros(like: parameters)
        v = OptimizerState.zeros(like: parameters)
    }

    public func step() {
        stepCount += 1
        let t = Double(stepCount)
        let bc1 = 1 - Foundation.pow(Double(beta1), t)
        let bc2 = 1 - Foundation.pow(Double(beta2), t)
        let stepSize = Float(Double(learningRate) / bc1)
        let invBc2Sqrt = Float(1 / bc2.squareRoot())
        let b1 = beta1, b2 = beta2, e = eps, wd = weightDecay
        let l2 = decoupledWeightDecay ? 0 : wd
        let shrink: Float = decoupledWeightDecay ? 1 - learningRate * wd : 1
        for k in parameters.indices {
            let p = parameters[k]
            if p.isFrozen { continue }
            p.gradient.withUnsafeBufferPointer { pg in
                p.value.withUnsafeMutableBufferPointer { pv in
                    m[k].withUnsafeMutableBufferPointer { pm in
                        v[k].withUnsafeMutableBufferPointer { pvv in
                            guard let g = pg.baseAddress, let x = pv.baseAddress,
                                  let mp = pm.baseAddress, let vp = pvv.baseAddress else { return }
                            var slice = AdamSlice(x: x, g: g, m: mp, v: vp, b1: b1, b2: b2, l2: l2,
                                                  shrink: shrink, stepSize: stepSize,
                                                  invBc2Sqrt: invBc2Sqrt, eps: e)
                            // Split over the gemm threads (row-split mode) when large: the update
                            // streams 4 arrays and is memory-bound on one core.
                            withUnsafeMutablePointer(to: &slice) { ctx in
                                ParallelFor.run(count: pv.count, context: UnsafeMutableRawPointer(ctx),
                                                adamUpdate)
                            }
                        }
                    }
                }
            }
        }
    }

    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    public func stateTensors() -> [(name: String, tensor: Matrix)] {
        OptimizerState.tensors([("adam.m", m), ("adam.v", v)])
    }

    public func loadState(_ tensors: [String: Matrix], stepCount: Int) throws {
        try OptimizerState.validate(tensors, [("adam.m", m), ("adam.v", v)], stepCount: stepCount)
        OptimizerState.copy(tensors, prefix: "adam.m", into: &m)
        OptimizerState.copy(tensors, prefix: "adam.v", into: &v)
        self.stepCount = stepCount
    }
}

/// One parameter tensor's Adam update, for `ParallelFor` (pointers and scalars by pointer).
struct AdamSlice {
    var x: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>
    var m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    var b1: Float, b2: Float, l2: Float, shrink: Float, stepSize: Float, invBc2Sqrt: Float, eps: Float
}

/// Elements `start..<end` of the update described by the `AdamSlice` at `context`.
private let adamUpdate: @convention(c) (UnsafeMutableRawPointer, Int, Int) -> Void = { context, start, end in
    let s = context.assumingMemoryBound(to: AdamSlice.self).pointee
    let x = s.x, g = s.g, mp = s.m, vp = s.v
    let b1 = s.b1, b2 = s.b2, l2 = s.l2, shrink = s.shrink
    let stepSize = s.stepSize, invBc2Sqrt = s.invBc2Sqrt, e = s.eps
    for i in start..<end {
        var xi = x[i]
        let gi = g[i] + l2 * xi
        xi *= shrink
        let mi = b1 * mp[i] + (1 - b1) * gi
        let vi = b2 * vp[i] + (1 - b2) * gi * gi
        mp[i] = mi; vp[i] = vi
        // fastSqrt: Swift's squareRoot() keeps this loop scalar on Linux; fastSqrt is within
        // 2.2e-7 relative and vectorises.
        x[i] = xi - stepSize * mi / (fastSqrt(vi) * invBc2Sqrt + e)
    }
}
