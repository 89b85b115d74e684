import Linalg

/// Batch normalisation over channels (Ioffe & Szegedy 2015, Algorithm 1), PyTorch's
/// `nn.BatchNorm2d(channels)` on NCHW rows and `nn.BatchNorm1d(features)` on `batch x features`
/// (one channel per feature): `Y = γ (X - μ) / sqrt(σ² + eps) + β` per channel.
///
/// Layout: `X` and `Y` are `batch x (channels * spatialSize)`, NCHW inside a row
/// (`spatialSize = height * width`, 1 for `BatchNorm1d`). Statistics run over the
/// `M = batch * spatialSize` values of each channel.
/// - Training (`forward(_, training: true)`): `μ`, `σ²` are the batch mean and biased variance;
///   the running averages become `(1 - momentum) * running + momentum * batch`, using the
///   unbiased variance `σ² M / (M - 1)` for `running_var`, and `num_batches_tracked` grows by 1
///   (as `torch.nn.functional.batch_norm`). Backward (Ioffe & Szegedy 2015, section 3):
///   `dγ += Σ dY x̂`, `dβ += Σ dY`, `dX = γ / sqrt(σ² + eps) (dY - Σ dY / M - x̂ Σ(dY x̂) / M)`.
/// - Evaluation (`training: false`): `μ`, `σ²` are the running statistics; nothing is updated.
/// `weight` (γ, ones) and `bias` (β, zeros) are `1 x channels` parameters; `running_mean`
/// (zeros), `running_var` (ones) and `num_batches_tracked` are state-dict buffers with
/// PyTorch's names and shapes. Buffers are reused: no heap allocation in steady state.
public final class BatchNorm: Layer {
    public let channels: Int
    /// Values per channel and sample (`height * width`; 1 for `BatchNorm1d`).
    public let spatialSize: Int
    public let momentum: Float
    public let eps: Float
    /// γ, `1 x channels`.
    public let weight: Parameter
    /// β, `1 x channels`.
    public let bias: Parameter
    /// `1 x channels`, updated by training forwards.
    public private(set) var runningMean: Matrix
    /// `1 x channels` (unbiased batch variances averaged), updated by training forwards.
    public private(set) var runningVar: Matrix
    /// Training forwards seen (PyTorch's `num_batches_tracked`).
    public private(set) var numBatchesTracked: Int = 0

    public var isFrozen: Bool = false {
        didSet { weight.isFrozen = isFrozen; bias.isFrozen = isFrozen }
    }
    public var computesInputGradient: Bool = true

    /// Per-channel `1 x channels` work buffers: batch mean, `1 / sqrt(σ² + eps)`, scratch.
    private var mean: Matrix, invStd: Matrix, scratch: Matrix
    /// `x̂`, kept from a training forward for backward.
    private var normalized = Matrix.empty
    private var output = Matrix.empty
    private var inputGradient = Matrix.empty
    private var hasCache = false

    /// `BatchNorm2d` over `channels` channels of `height x width` (spatialSize `height * width`).
    /// - Precondition: positive sizes, `eps > 0`, `0 <= momentum <= 1`.
    public init(channels: Int, spatialSize: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
        precondition(channels > 0 && spatialSize > 0, "BatchNorm: channels and spatial size must be positive")
        precondition(eps > 0 && momentum >= 0 && momentum <= 1, "BatchNorm: needs eps > 0 and momentum in [0, 1]")
        self.channels = channels; self.spatialSize = spatialSize
        self.momentum = momentum; self.eps = eps
        weight = Parameter(name: "weight", value: Matrix(rows: 1, cols: channels, repeating: 1))
        bias = Parameter(name: "bias", value: Matrix(rows: 1, cols: channels))
        runningMean = Matrix(rows: 1, cols: channels)
        runningVar = Matrix(rows: 1, cols: channels, repeating: 1)
        mean = Matrix(rows: 1, cols: channels); invStd = mean; scratch = mean
    }

    /// `nn.BatchNorm2d(channels)` for `channels x height x width` samples.
    public convenience init(channels: Int, height: Int, width: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
        self.init(channels: channels, spatialSize: height * width, momentum: momentum, eps: eps)
    }

    /// `nn.BatchNorm1d(features)` for `batch x features` inputs.
    public convenience init(features: Int, momentum: Float = 0.1, eps: Float = 1e-5) {
        self.init(channels: features, spatialSize: 1, momentum: momentum, eps: eps)
    }

    public var parameters: [Parameter] { [weight, bias] }

    public func zeroGradients() { weight.zeroGradient(); bias.zeroGradient() }

    /// Normalised `x`, same shape. Training uses (and records) batch statistics.
    /// - Precondition: `x.cols == channels * spatialSize`; in training, more than one value
    ///   per channel (`batch * spatialSize > 1`, as PyTorch requires).
    public func forward(_ x: Matrix, training: Bool) -> Matrix {
        let n = x.rows, m = n * spatialSize
        precondition(x.cols == channels * spatialSize,
                     "BatchNorm: input is \(x.rows)x\(x.cols) but expects \(channels * spatialSize) features")
        precondition(!training || m > 1, "BatchNorm: training needs more than 1 value per channel, got \(m)")
        hasCache = false
        normalized.resize(rows: n, cols: x.cols)
        output.resize(rows: n, cols: x.cols)
        let geo = BatchNormKernels(batch: n, channels: channels, spatial: spatialSize)
        x.withUnsafeBufferPointer { xs in
            withStatistics { mu, inv, tmp, rm, rv in
                if training {
                    geo.moments(xs.baseAddress!, mean: mu, variance: tmp)
                    geo.updateRunning(mean: rm, variance: rv, batchMean: mu, batchVariance: tmp, momentum: momentum)
                    geo.inverseStd(of: tmp, eps: eps, into: inv)
                } else {
                    mu.update(from: rm, count: channels)
                    geo.inverseStd(of: rv, eps: eps, into: inv)
                }
                weight.value.withUnsafeBufferPointer { g in
                    bias.value.withUnsafeBufferPointer { b in
                        normalized.withUnsafeMutableBufferPointer { xh in
                            output.withUnsafeMutableBufferPointer { y in
                                geo.normalize(xs.baseAddress!, mean: mu, invStd: inv, gamma: g.baseAddress!, beta: b.baseAddress!,
                                              normalized: xh.baseAddress!, output: y.baseAddress!)
                            }
                        }
                    }
                }
            }
        }
        if training { numBatchesTracked += 1 }
        hasCache = training
        return output
    }

    /// Accumulates `dγ`, `dβ` (unless frozen); returns `dX` or `Matrix.empty` when
    /// `computesInputGradient` is false.
    /// - Precondition: follows `forward(_:training: true)`; `gradOutput` has the output's shape.
    public func backward(_ gradOutput: Matrix) -> Matrix {
        precondition(hasCache, "BatchNorm: backward without a training forward")
        precondition(gradOutput.rows == output.rows && gradOutput.cols == output.cols,
                     "BatchNorm: gradOutput is \(gradOutput.rows)x\(gradOutput.cols) but output is \(output.rows)x\(output.cols)")
        hasCache = false
        if isFrozen && !computesInputGradient { return .empty }
        let geo = BatchNormKernels(batch: gradOutput.rows, channels: channels, spatial: spatialSize)
        // Σ dY into mean's buffer and Σ dY x̂ into scratch (the batch mean is not needed any more).
        gradOutput.withUnsafeBufferPointer { dy in
            normalized.withUnsafeBufferPointer { xh in
                withStatistics { sumDy, _, sumDyX, _, _ in
                    geo.gradientSums(dy.baseAddress!, normalized: xh.baseAddress!, sumDy: sumDy, sumDyXhat: sumDyX)
                }
            }
        }
        if !isFrozen {
            weight.gradient.add(scratch)
            bias.gradient.add(mean)
        }
        guard computesInputGradient else { return .empty }
        inputGradient.resize(rows: gradOutput.rows, cols: gradOutput.cols)
        gradOutput.withUnsafeBufferPointer { dy in
            normalized.withUnsafeBufferPointer { xh in
                weight.value.withUnsafeBufferPointer { g in
                    inputGradient.withUnsafeMutableBufferPointer { dx in
                        withStatistics { sumDy, inv, sumDyX, _, _ in
                            geo.inputGradient(dy.baseAddress!, normalized: xh.baseAddress!, gamma: g.baseAddress!, invStd: inv,
                                              sumDy: sumDy, sumDyXhat: sumDyX, into: dx.baseAddress!)
                        }
                    }
                }
            }
        }
        return inputGradient
    }

    /// Calls `body` with the per-channel buffers: mean, invStd, scratch, runningMean, runningVar.
    private func withStatistics(_ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                         UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>,
                                         UnsafeMutablePointer<Float>) -> Void) {
        mean.withUnsafeMutableBufferPointer { a in
            invStd.withUnsafeMutableBufferPointer { b in
                scratch.withUnsafeMutableBufferPointer { c in
                    runningMean.withUnsafeMutableBufferPointer { d in
                        runningVar.withUnsafeMutableBufferPointer { e in
                            body(a.baseAddress!, b.baseAddress!, c.baseAddress!, d.baseAddress!, e.baseAddress!)
                        }
                    }
                }
            }
        }
    }

    public func releaseCaches() { hasCache = false }

    /// `weight`, `bias`, then the buffers `running_mean`, `running_var` (`[channels]`) and
    /// `num_batches_tracked` (shape `[]`, a `1 x 1` Float matrix holding the count, exact up to
    /// 2^24 batches; PyTorch's buffer is int64, and `load_state_dict` converts our F32 value
    /// into it, checked by scripts/conv_reference.py), as PyTorch.
    public var stateEntries: [StateEntry] {
        [.parameter(weight, oneD: true), .parameter(bias, oneD: true),
         StateEntry(name: "running_mean", shape: [channels], kind: .buffer, parameter: nil,
                    read: { self.runningMean }, write: { self.runningMean.assign($0) }),
         StateEntry(name: "running_var", shape: [channels], kind: .buffer, parameter: nil,
                    read: { self.runningVar }, write: { self.runningVar.assign($0) }),
         StateEntry(name: "num_batches_tracked", shape: [], kind: .buffer, parameter: nil,
                    read: { Matrix(rows: 1, cols: 1, repeating: Float(self.numBatchesTracked)) },
                    write: { self.numBatchesTracked = Self.count(from: $0[0, 0]) })]
    }

    /// A loaded `num_batches_tracked`: a non-negative whole count (a negative, fractional or
    /// non-finite value from a file becomes 0 rather than trapping; PyTorch only reads the
    /// count when `momentum` is None, which this layer does not offer).
    static func count(from v: Float) -> Int {
        v.isFinite && v >= 0 && v < 0x1p53 ? Int(v.rounded(.down)) : 0
    }

    public func outputFeatures(for inputFeatures: Int) -> Int? {
        inputFeatures == channels * spatialSize ? inputFeatures : nil
    }

    /// True: a training forward normalises with the batch's own statistics.
    public var usesBatchStatistics: Bool { true }
}

/// `BatchNorm2d` is `BatchNorm` over `channels x height x width` samples.
public typealias BatchNorm2d = BatchNorm
/// `BatchNorm1d` is `BatchNorm` over `batch x features` (`init(features:)`).
public typealias BatchNorm1d = BatchNorm
