import Linalg

/// A 2-D convolution, PyTorch's `nn.Conv2d(inChannels, outChannels, kernel, stride, padding)`
/// (square kernel, no dilation, no groups): `Y[n, o] = b[o] + Σ_c W[o, c] ⋆ X[n, c]`
/// (cross-correlation, as in PyTorch).
///
/// Layout: one sample per row in NCHW order, `X` is `batch x (inChannels * inputHeight *
/// inputWidth)`, `Y` is `batch x (outChannels * outputHeight * outputWidth)`; `weight` is
/// `outChannels x (inChannels * kernel * kernel)`, exactly `nn.Conv2d.weight` `[out, in, kh,
/// kw]` row-major; `bias` is `1 x outChannels`. `outputHeight = (inputHeight + 2 * padding -
/// kernel) / stride + 1` (floor).
///
/// Forward is im2col + one gemm per batch: `P = im2col(X)` (`K x batch·positions`, `K =
/// inChannels·kernel²`), `Y = W P + b` (Chellapilla et al. 2006), permuted from channel-major
/// back to NCHW rows. Backward: `dW += dY Pᵀ`, `db += Σ dY`, and `dX = col2im(Wᵀ dY)` (col2im
/// is the adjoint of im2col). Why one gemm per batch: against one gemm per sample (same
/// im2col/col2im row kernels, `scripts/conv-strategy-bench`, batch 128, forward+backward,
/// 2-core AMD EPYC family 23 model 49 (Zen 2), load < 1) it was 10-26% faster on the heavy layers with 2 OpenBLAS threads
/// (64->128 k4 s2 p1 14x14: 56.7 vs 71.3 ms; k5 s2 p2: 83.3 vs 101.6 ms) and 12-20% faster
/// with 1 thread (84.0 vs 101.2 ms); per sample was 10-15% faster only on the cheap 1->64
/// 28x28 layers with 1 thread (6.1 vs 7.2 ms). The batch-wide im2col writes each patch row
/// for all samples in one stream.
/// A training forward keeps only the patch matrix (its own buffer), not the caller's input.
/// Buffers are reused (`resize`): no heap allocation in steady state at a fixed batch size.
public final class Conv2d: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int, stride: Int, padding: Int
    public let inputHeight: Int, inputWidth: Int
    public let outputHeight: Int, outputWidth: Int
    /// `outChannels x (inChannels * kernel * kernel)` (`nn.Conv2d.weight` row-major).
    public let weight: Parameter
    /// `1 x outChannels`.
    public let bias: Parameter?

    /// When true, backward computes no `dW`/`db` and optimisers skip them; `dX` is still computed.
    public var isFrozen: Bool = false {
        didSet { weight.isFrozen = isFrozen; bias?.isFrozen = isFrozen }
    }
    /// When false, backward skips `dX` and returns `Matrix.empty`.
    public var computesInputGradient: Bool = true

    let geometry: ConvGeometry
    /// `K x (batch * positions)` patch matrix; after backward's `dW`, reused for `dP`.
    private var patches = Matrix.empty
    /// `outChannels x (batch * positions)`: the gemm result, then `dY` in channel-major order.
    private var channelMajor = Matrix.empty
    private var output = Matrix.empty
    private var inputGradient = Matrix.empty
    private var hasCache = false

    /// A layer initialised like PyTorch's `reset_parameters`: weight and bias
    /// `U(-1/sqrt(fanIn), 1/sqrt(fanIn))`, `fanIn = inChannels * kernel²` (`kaiming_uniform_` with
    /// `a = sqrt(5)`), weight first (row-major `[out, in, kh, kw]`), then bias, from `rng`.
    /// - Precondition: positive sizes, `padding >= 0`, the kernel fits the padded input.
    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, inputHeight: Int, inputWidth: Int, rng: inout Xoshiro256) {
        precondition(outChannels > 0, "Conv2d: outChannels must be positive")
        geometry = ConvGeometry(channels: inChannels, height: inputHeight, width: inputWidth,
                                kernel: kernel, stride: stride, padding: padding, layer: "Conv2d")
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding
        self.inputHeight = inputHeight; self.inputWidth = inputWidth
        outputHeight = geometry.outputHeight; outputWidth = geometry.outputWidth
        let a = 1 / Float(geometry.patchSize).squareRoot()
        weight = Parameter(name: "weight", value: .uniform(rows: outChannels, cols: geometry.patchSize,
                                                           low: -a, high: a, using: &rng))
        self.bias = bias ? Parameter(name: "bias", value: .uniform(rows: 1, cols: outChannels,
                                                                  low: -a, high: a, using: &rng)) : nil
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    public func zeroGradients() { weight.zeroGradient(); bias?.zeroGradient() }

    /// `batch x (outChannels * outputHeight * outputWidth)`.
    /// - Precondition: `x.cols == inChannels * inputHeight * inputWidth`.
    public func forward(_ x: Matrix, training: Bool) -> Matrix {
        let g = geometry, n = x.rows, q = g.positions, o = outChannels
        precondition(x.cols == g.inputSize, "Conv2d: input is \(x.rows)x\(x.cols) but expects \(g.inputSize) features")
        hasCache = false
        patches.resize(rows: g.patchSize, cols: n * q)
        x.withUnsafeBufferPointer { xs in
            patches.withUnsafeMutableBufferPointer { p in
                g.im2col(xs.baseAddress!, batch: n, into: p.baseAddress!)
            }
        }
        channelMajor.resize(rows: o, cols: n * q)
        gemm(weight.value, patches, into: &channelMajor)
        output.resize(rows: n, cols: o * q)
        withBias { b in
            channelMajor.withUnsafeBufferPointer { cm in
                output.withUnsafeMutableBufferPointer { y in
                    ChannelMajor.scatter(cm.baseAddress!, into: y.baseAddress!, batch: n, channels: o, positions: q, bias: b)
                }
            }
        }
        hasCache = training
        return output
    }

    /// Accumulates `dW`, `db` (unless frozen); returns `dX` (`batch x inputSize`) or
    /// `Matrix.empty` when `computesInputGradient` is false.
    /// - Precondition: follows `forward(_:training: true)`; `gradOutput` has the output's shape.
    public func backward(_ gradOutput: Matrix) -> Matrix {
        precondition(hasCache, "Conv2d: backward without a training forward")
        precondition(gradOutput.rows == output.rows && gradOutput.cols == output.cols,
                     "Conv2d: gradOutput is \(gradOutput.rows)x\(gradOutput.cols) but output is \(output.rows)x\(output.cols)")
        hasCache = false
        if isFrozen && !computesInputGradient { return .empty }
        let g = geometry, n = gradOutput.rows, q = g.positions, o = outChannels
        gradOutput.withUnsafeBufferPointer { dy in
            channelMajor.withUnsafeMutableBufferPointer { cm in
                ChannelMajor.gather(dy.baseAddress!, into: cm.baseAddress!, batch: n, channels: o, positions: q)
                if !isFrozen, let bias {
                    bias.gradient.withUnsafeMutableBufferPointer { db in
                        ChannelMajor.accumulateChannelSums(dy.baseAddress!, into: db.baseAddress!, batch: n, channels: o, positions: q)
                    }
                }
            }
        }
        if !isFrozen { gemm(channelMajor, patches, into: &weight.gradient, transposeB: true, beta: 1) }
        guard computesInputGradient else { return .empty }
        gemm(weight.value, channelMajor, into: &patches, transposeA: true)
        inputGradient.resize(rows: n, cols: g.inputSize)
        patches.withUnsafeBufferPointer { p in
            inputGradient.withUnsafeMutableBufferPointer { dx in
                dx.baseAddress!.update(repeating: 0, count: dx.count)
                g.col2im(p.baseAddress!, batch: n, into: dx.baseAddress!)
            }
        }
        return inputGradient
    }

    /// Calls `body` with the bias, or nil when there is none.
    private func withBias(_ body: (UnsafePointer<Float>?) -> Void) {
        guard let bias else { return body(nil) }
        bias.value.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    public func releaseCaches() { hasCache = false }

    /// `weight` `[out, in, kh, kw]`, `bias` `[out]`, as `nn.Conv2d`.
    public var stateEntries: [StateEntry] {
        let w = StateEntry(name: "weight", shape: [outChannels, inChannels, kernel, kernel], kind: .parameter,
                           parameter: weight, read: { [weight] in weight.value }, write: { [weight] in weight.value.assign($0) })
        return bias.map { [w, .parameter($0, oneD: true)] } ?? [w]
    }

    public func outputFeatures(for inputFeatures: Int) -> Int? {
        inputFeatures == geometry.inputSize ? outChannels * geometry.positions : nil
    }

    /// `W P`: `outChannels x K` by `K x positions` per sample.
    public var forwardFLOPsPerSample: Int { 2 * outChannels * geometry.patchSize * geometry.positions }

    /// `dW = dY Pᵀ` and `dP = Wᵀ dY` each cost what the forward gemm does.
    public func backwardFLOPsPerSample(inputGradient: Bool, weightGradient: Bool) -> Int {
        (inputGradient ? forwardFLOPsPerSample : 0) + (weightGradient ? forwardFLOPsPerSample : 0)
    }
}
