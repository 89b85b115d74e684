import CVectorMath
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
/// Runs with denormals flushed to zero, as TensorFlow's CPU threads do (`Optimizer.step()`):
/// a moment that decays below `Float.leastNormalMagnitude` becomes 0.
public final class Adam: Optimizer {
    public let beta1: Float, beta2: Float, eps: Float, weightDecay: Float
    /// True: AdamW's decoupled decay; false: L2 added to the gradient (torch's `Adam`).
    public let decoupledWeightDecay: Bool
    private var stepSize: Float = 0, invBc2Sqrt: Float = 0

    public init(parameters: [Parameter], learningRate: Float = 1e-3, beta1: Float = 0.9,
                beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 0,
                decoupledWeightDecay: Bool = false) {
        self.beta1 = beta1; self.beta2 = beta2; self.eps = eps
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        super.init(parameters: parameters, learningRate: learningRate, stateName: "adam", slotNames: ["m", "v"])
    }

    /// Bias corrections for this step's `t` (in Double, then rounded once).
    public override func prepareStep() {
        let t = Double(stepCount)
        let bc1 = 1 - Foundation.pow(Double(beta1), t)
        let bc2 = 1 - Foundation.pow(Double(beta2), t)
        stepSize = Float(Double(learningRate) / bc1)
        invBc2Sqrt = Float(1 / bc2.squareRoot())
    }

    public override func update(parameter index: Int, value: UnsafeMutableBufferPointer<Float>,
                                gradient: UnsafeBufferPointer<Float>, state: [UnsafeMutablePointer<Float>]) {
        run(value: value, gradient: gradient, state: state)
    }

    /// The decay's terms: `g += l2 x` (torch's Adam) or `x *= shrink` (AdamW); 0 and 1 without.
    private var decayTerms: (l2: Float, shrink: Float) {
        decoupledWeightDecay ? (0, 1 - learningRate * weightDecay) : (weightDecay, 1)
    }

    /// Where the AVX-512 kernels run (as the packed products do).
    override var updatesInPanels: Bool { ElementwiseKernels.isAvailable }

    /// The update of a weight kept only in panels (`ew_adam_panels`: the same bits as the
    /// row-major update), split over the row-split threads when large.
    override func update(parameter index: Int, inPanels panels: PackedPanels, elements: Range<Int>,
                         gradient: UnsafePointer<Float>, state: [UnsafeMutablePointer<Float>]) {
        let (l2, shrink) = decayTerms
        var job = AdamPanelsJob(panels: panels.panels, rows: panels.rows, cols: panels.cols, first: elements.lowerBound,
                                g: gradient, m: state[0], v: state[1], b1: beta1, b2: beta2, l2: l2, shrink: shrink,
                                stepSize: stepSize, invBc2Sqrt: invBc2Sqrt, eps: eps,
                                decay: l2 == 0 && shrink == 1 ? 0 : 1)
        withUnsafeMutablePointer(to: &job) { ctx in
            ParallelFor.run(count: elements.count, context: UnsafeMutableRawPointer(ctx), adamUpdateInPanels)
        }
    }

    private func run(value: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                     state: [UnsafeMutablePointer<Float>]) {
        guard let x = value.baseAddress, let g = gradient.baseAddress else { return }
        let (l2, shrink) = decayTerms
        var slice = AdamSlice(x: x, g: g, m: state[0], v: state[1], b1: beta1, b2: beta2, l2: l2, shrink: shrink,
                              stepSize: stepSize, invBc2Sqrt: invBc2Sqrt, eps: eps)
        // Split over the gemm threads (row-split mode) when large: the update streams 4 arrays.
        // Without weight decay (the default) a loop without the decay's 3 operations per
        // element: the same bits for finite parameters (g + 0·x is g but for a -0 gradient,
        // and the moments come out the same), faster where the loop is bound by arithmetic.
        let plain = slice.l2 == 0 && slice.shrink == 1
        withUnsafeMutablePointer(to: &slice) { ctx in
            ParallelFor.run(count: value.count, context: UnsafeMutableRawPointer(ctx), plain ? adamUpdateNoDecay : adamUpdate)
        }
    }
}

/// One parameter tensor's Adam update, for `ParallelFor` (pointers and scalars by pointer).
struct AdamSlice {
    var x: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>
    var m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    var b1: Float, b2: Float, l2: Float, shrink: Float, stepSize: Float, invBc2Sqrt: Float, eps: Float

    /// Elements `start..<end` with AVX-512 (`ElementwiseKernels.isAvailable` must hold), the
    /// same bits as `update`/`updateNoDecay`: the loop is bound by its square root and division,
    /// so 16 lanes instead of SSE's 4 pay.
    func updateAVX512(_ start: Int, _ end: Int, decay: Bool) {
        ew_adam(x, g, m, v, start, end, b1, b2, l2, shrink, stepSize, invBc2Sqrt, eps, decay ? 1 : 0)
    }

    /// Elements `start..<end`, any CPU: `g += l2 x; x *= shrink`, then the moments and the step.
    func update(_ start: Int, _ end: Int) {
        let b1 = self.b1, b2 = self.b2, l2 = self.l2, shrink = self.shrink
        let stepSize = self.stepSize, invBc2Sqrt = self.invBc2Sqrt, e = self.eps
        let x = self.x, g = self.g, mp = self.m, vp = self.v
        for i in start..<end {
            var xi = x[i]
            let gi = g[i] + l2 * xi
            xi *= shrink
            let mi = b1 * mp[i] + (1 - b1) * gi
            let vi = b2 * vp[i] + (1 - b2) * gi * gi
            mp[i] = mi; vp[i] = vi
            // fastSqrt: the exact square root that vectorises (Swift's squareRoot() keeps this
            // loop scalar on Linux).
            x[i] = xi - stepSize * mi / (fastSqrt(vi) * invBc2Sqrt + e)
        }
    }

    /// `update` without weight decay (`l2 == 0`, `shrink == 1`): three operations fewer per
    /// element.
    func updateNoDecay(_ start: Int, _ end: Int) {
        let b1 = self.b1, b2 = self.b2, c1 = 1 - self.b1, c2 = 1 - self.b2
        let stepSize = self.stepSize, invBc2Sqrt = self.invBc2Sqrt, e = self.eps
        let x = self.x, g = self.g, mp = self.m, vp = self.v
        for i in start..<end {
            let gi = g[i]
            let mi = b1 * mp[i] + c1 * gi
            let vi = b2 * vp[i] + c2 * gi * gi
            mp[i] = mi; vp[i] = vi
            x[i] = x[i] - stepSize * mi / (fastSqrt(vi) * invBc2Sqrt + e)
        }
    }
}

/// One weight's Adam update in its panels (`Adam.update(parameter:inPanels:...)`), for
/// `ParallelFor`: elements `first + start ..< first + end` of the row-major order.
struct AdamPanelsJob {
    var panels: UnsafeMutablePointer<Float>, rows: Int, cols: Int, first: Int
    var g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
    var b1: Float, b2: Float, l2: Float, shrink: Float, stepSize: Float, invBc2Sqrt: Float, eps: Float
    var decay: Int32
}

/// Elements `start..<end` of the update described by the `AdamPanelsJob` at `context`.
private let adamUpdateInPanels: @convention(c) (UnsafeMutableRawPointer, Int, Int) -> Void = { context, start, end in
    let j = context.assumingMemoryBound(to: AdamPanelsJob.self).pointee
    // On a worker thread too (row split): see `Optimizer.step()`.
    withDenormalsFlushed {
        ew_adam_panels(j.panels, j.rows, j.cols, PackedPanels.width, j.g, j.m, j.v, j.first + start, j.first + end,
                       j.b1, j.b2, j.l2, j.shrink, j.stepSize, j.invBc2Sqrt, j.eps, j.decay)
    }
}

/// Elements `start..<end` of the update described by the `AdamSlice` at `context`.
private let adamUpdate: @convention(c) (UnsafeMutableRawPointer, Int, Int) -> Void = { context, start, end in
    let s = context.assumingMemoryBound(to: AdamSlice.self).pointee
    // On a worker thread too (row split): see `Optimizer.step()`.
    withDenormalsFlushed {
        if ElementwiseKernels.isAvailable { s.updateAVX512(start, end, decay: true) } else { s.update(start, end) }
    }
}

/// `adamUpdate` without weight decay (`l2 == 0`, `shrink == 1`).
private let adamUpdateNoDecay: @convention(c) (UnsafeMutableRawPointer, Int, Int) -> Void = { context, start, end in
    let s = context.assumingMemoryBound(to: AdamSlice.self).pointee
    withDenormalsFlushed {
        if ElementwiseKernels.isAvailable { s.updateAVX512(start, end, decay: false) } else { s.updateNoDecay(start, end) }
    }
}
