import Linalg

/// A 2-D transposed convolution, PyTorch's `nn.ConvTranspose2d(inChannels, outChannels, kernel,
/// stride, padding, output_padding)` (square kernel, no dilation, no groups): the adjoint of
/// `Conv2d(outChannels -> inChannels)` with the same weight tensor, i.e. its forward is that
/// convolution's input gradient (Dumoulin & Visin 2016, "A guide to convolution arithmetic",
/// section 4), plus a bias.
///
/// Layout: one sample per row in NCHW order, `X` is `batch x (inChannels * inputHeight *
/// inputWidth)`, `Y` is `batch x (outChannels * outputHeight * outputWidth)` with
/// `outputHeight = (inputHeight - 1) * stride - 2 * padding + kernel + outputPadding` (PyTorch;
/// `outputPadding` adds rows and columns at the bottom and right, which only the bias and
/// overlapping kernels reach). `weight` is `inChannels x (outChannels * kernel * kernel)`,
/// exactly `nn.ConvTranspose2d.weight` `[in, out, kh, kw]` row-major; `bias` is `1 x outChannels`.
///
/// Forward: `P = Wᵀ X` (one gemm per batch, `X` in channel-major order), `Y = col2im(P) + b`.
/// Backward: `P' = im2col(dY)`, `dW += X P'ᵀ`, `db += Σ dY`, `dX = W P'`. A training forward
/// keeps `X` in its own channel-major buffer. No heap allocation in steady state.
public final class ConvTranspose2d: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int, stride: Int, padding: Int, outputPadding: Int
    public let inputHeight: Int, inputWidth: Int
    public let outputHeight: Int, outputWidth: Int
    /// `inChannels x (outChannels * kernel * kernel)` (`nn.ConvTranspose2d.weight` row-major).
    public let weight: Parameter
    /// `1 x outChannels`.
    public let bias: Parameter?

    /// When true, backward computes no `dW`/`db` and optimisers skip them; `dX` is still computed.
    public var isFrozen: Bool = false {
        didSet { weight.isFrozen = isFrozen; bias?.isFrozen = isFrozen }
    }
    /// When false, backward skips `dX` and returns `Matrix.empty`.
    public var computesInputGradient: Bool = true

    /// The geometry of the adjoint convolution: its input is this layer's output.
    let geometry: ConvGeometry
    /// `inChannels x (batch * positions)`: `X`, then `dX`, in channel-major order.
    private var channelMajor = Matrix.empty
    /// `K x (batch * positions)`, `K = outChannels * kernel²`.
    private var patches = Matrix.empty
    private var output = Matrix.empty
    private var inputGradient = Matrix.empty
    private var hasCache = false

    /// A layer initialised like PyTorch's `reset_parameters`: weight and bias
    /// `U(-1/sqrt(fanIn), 1/sqrt(fanIn))` with PyTorch's `fanIn = outChannels * kernel²` (the
    /// weight's dimension 1 times the kernel area), weight first, then bias, from `rng`.
    /// - Precondition: positive sizes, `padding >= 0`, `0 <= outputPadding < stride` (as
    ///   PyTorch requires without dilation), and a positive output size.
    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, bias: Bool = true, inputHeight: Int, inputWidth: Int,
                rng: inout Xoshiro256) {
        precondition(inChannels > 0 && inputHeight > 0 && inputWidth > 0 && stride > 0,
                     "ConvTranspose2d: channels, input size and stride must be positive")
        precondition(outputPadding >= 0 && outputPadding < stride,
                     "ConvTranspose2d: outputPadding \(outputPadding) must be in 0..<stride (\(stride))")
        let oh = (inputHeight - 1) * stride - 2 * padding + kernel + outputPadding
        let ow = (inputWidth - 1) * stride - 2 * padding + kernel + outputPadding
        geometry = ConvGeometry(channels: outChannels, height: oh, width: ow, kernel: kernel,
                                stride: stride, padding: padding, layer: "ConvTranspose2d")
        precondition(geometry.outputHeight == inputHeight && geometry.outputWidth == inputWidth,
                     "ConvTranspose2d: geometry does not invert (\(inputHeight)x\(inputWidth) -> \(oh)x\(ow))")
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding; self.outputPadding = outputPadding
        self.inputHeight = inputHeight; self.inputWidth = inputWidth
        outputHeight = oh; outputWidth = ow
        let a = 1 / Float(geometry.patchSize).squareRoot()
        weight = Parameter(name: "weight", value: .uniform(rows: inChannels, cols: geometry.patchSize,
                                                           low: -a, high: a, using: &rng))
        self.bias = bias ? Parameter(name: "bias", value: .uniform(rows: 1, cols: outChannels,
                                                                  low: -a, high: a, using: &rng)) : nil
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    public func zeroGradients() { weight.zeroGradient(); bias?.zeroGradient() }

    /// `batch x (outChannels * outputHeight * outputWidth)`.
    /// - Precondition: `x.cols == inChannels * inputHeight * inputWidth`.
    public func forward(_ x: Matrix, training: Bool) -> Matrix {
        let g = geometry, n = x.rows, q = g.positions, c = inChannels
        precondition(x.cols == c * q, "ConvTranspose2d: input is \(x.rows)x\(x.cols) but expects \(c * q) features")
        hasCache = false
        channelMajor.resize(rows: c, cols: n * q)
        x.withUnsafeBufferPointer { xs in
            channelMajor.withUnsafeMutableBufferPointer { cm in
                ChannelMajor.gather(xs.baseAddress!, into: cm.baseAddress!, batch: n, channels: c, positions: q)
            }
        }
        patches.resize(rows: g.patchSize, cols: n * q)
        gemm(weight.value, channelMajor, into: &patches, transposeA: true)
        output.resize(rows: n, cols: g.inputSize)
        let hw = outputHeight * outputWidth, oc = outChannels
        patches.withUnsafeBufferPointer { p in
            output.withUnsafeMutableBufferPointer { y in
                y.baseAddress!.update(repeating: 0, count: y.count)
                g.col2im(p.baseAddress!, batch: n, into: y.baseAddress!)
                guard let bias else { return }
                bias.value.withUnsafeBufferPointer { b in
                    ChannelMajor.addChannelBias(b.baseAddress!, to: y.baseAddress!, batch: n, channels: oc, positions: hw)
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
        precondition(hasCache, "ConvTranspose2d: backward without a training forward")
        precondition(gradOutput.rows == output.rows && gradOutput.cols == output.cols,
                     "ConvTranspose2d: gradOutput is \(gradOutput.rows)x\(gradOutput.cols) but output is \(output.rows)x\(output.cols)")
        hasCache = false
        if isFrozen && !computesInputGradient { return .empty }
        let g = geometry, n = gradOutput.rows, q = g.positions, c = inChannels
        gradOutput.withUnsafeBufferPointer { dy in
            patches.withUnsafeMutableBufferPointer { p in
                g.im2col(dy.baseAddress!, batch: n, into: p.baseAddress!)
            }
            if !isFrozen, let bias {
                bias.gradient.withUnsafeMutableBufferPointer { db in
                    ChannelMajor.accumulateChannelSums(dy.baseAddress!, into: db.baseAddress!, batch: n,
                                                       channels: outChannels, positions: outputHeight * outputWidth)
                }
            }
        }
        if !isFrozen { gemm(channelMajor, patches, into: &weight.gradient, transposeB: true, beta: 1) }
        guard computesInputGradient else { return .empty }
        gemm(weight.value, patches, into: &channelMajor)
        inputGradient.resize(rows: n, cols: c * q)
        channelMajor.withUnsafeBufferPointer { cm in
            inputGradient.withUnsafeMutableBufferPointer { dx in
                ChannelMajor.scatter(cm.baseAddress!, into: dx.baseAddress!, batch: n, channels: c, positions: q, bias: nil)
            }
        }
        return inputGradient
    }

    public func releaseCaches() { hasCache = false }

    /// `weight` `[in, out, kh, kw]`, `bias` `[out]`, as `nn.ConvTranspose2d`.
    public var stateEntries: [StateEntry] {
        let w = StateEntry(name: "weight", shape: [inChannels, outChannels, kernel, kernel], kind: .parameter,
                           parameter: weight, read: { [weight] in weight.value }, write: { [weight] in weight.value.assign($0) })
        return bias.map { [w, .parameter($0, oneD: true)] } ?? [w]
    }

    public func outputFeatures(for inputFeatures: Int) -> Int? {
        inputFeatures == inChannels * geometry.positions ? geometry.inputSize : nil
    }

    /// `Wᵀ X`: `K x inChannels` by `inChannels x positions` per sample.
    public var forwardFLOPsPerSample: Int { 2 * inChannels * geometry.patchSize * geometry.positions }

    /// `dW = X P'ᵀ` and `dX = W P'` each cost what the forward gemm does.
    public func backwardFLOPsPerSample(inputGradient: Bool, weightGradient: Bool) -> Int {
        (inputGradient ? forwardFLOPsPerSample : 0) + (weightGradient ? forwardFLOPsPerSample : 0)
    }
}
