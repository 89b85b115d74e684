import Linalg

/// A fully connected layer with a fused activation: `Y = f(X W + b)`.
///
/// Shapes: `X` is `batch x inputSize`, `W` (`weight`) is `inputSize x outputSize`, `b` (`bias`)
/// is `1 x outputSize`, `Y` is `batch x outputSize`. PyTorch's `nn.Linear.weight` is `Wᵀ`
/// (`out x in`); `stateDict()` converts.
///
/// Forward is one gemm and one fused pass adding the bias and applying `f`. Backward is one pass
/// `dZ = dY ⊙ f'` (skipped for `identity`), `dW += Xᵀ dZ` (gemm, beta 1), `db += column sums
/// of dZ` (both skipped when frozen), and `dX = dZ Wᵀ` (gemm; skipped when
/// `computesInputGradient` is false). Parameter gradients accumulate until zeroed, as in PyTorch.
/// Output and gradient buffers belong to the layer and are reused (`resize`), so a steady-state
/// step at a fixed batch size allocates nothing.
///
/// On CPUs with AVX-512 (`PackedPanels.isAvailable`), for layers of at least 16 inputs and 16
/// outputs and batches of at most `PackedPanels.maximumRows`, the forward product runs our
/// kernel over `weight` packed into panels (`PackedWeight`): packed once after each change of
/// the weight — by the optimiser's update, or at the next product; under Adam the weight lives
/// only in panels (shared by the replicas under batch split), updated there in place — where
/// OpenBLAS would pack it at every product; `dX` runs it with `W` read from the
/// same panels and the batch's `dZ` packed (`gemmTransposedB(_:packed:into:scratch:)`). Same
/// values, different rounding order than OpenBLAS (a few ulps). `dW` runs the same kernel for
/// batches of at most `ownWeightGradientRows` (64) rows and weights of at most
/// `ownWeightGradientElements` (`gemmTransposedA`), else OpenBLAS; at any size when OpenBLAS
/// runs narrower kernels than ours (`OpenBLASCore.isNarrowerThanOurs`, e.g. its SSE3 fallback
/// on CPUs it does not know).
public final class Dense: Layer {
    /// Number of input features (`fanIn`).
    public let inputSize: Int
    /// Number of output features (`fanOut`).
    public let outputSize: Int
    /// `inputSize x outputSize` (`Y = X W + b`); PyTorch's `Linear.weight` is its transpose.
    public let weight: Parameter
    /// `1 x outputSize`.
    public let bias: Parameter
    /// The activation applied after the bias.
    public let activation: Activation

    /// When true, backward computes no `dW`/`db` and optimisers skip `weight` and `bias`
    /// (their `Parameter.isFrozen` follows this flag); `dX` is still computed.
    public var isFrozen: Bool {
        didSet { weight.isFrozen = isFrozen; bias.isFrozen = isFrozen }
    }
    /// When false, backward skips `dX = dZ Wᵀ` and returns `Matrix.empty` (first layers).
    public var computesInputGradient: Bool = true

    /// `batch x outputSize`, reused across calls (read by the double backward in
    /// DenseSecondOrder.swift for the activation's derivative).
    var output = Matrix.empty
    /// `batch x outputSize` work buffer for `dZ` (unused for `identity`).
    private var preActivationGradient = Matrix.empty
    /// `batch x inputSize`, the returned `dX` (also of `differentiableInputGradient`).
    var inputGradient = Matrix.empty
    /// `batch x outputSize`: `δ = g ⊙ f'` of the last `differentiableInputGradient`.
    var secondOrderDelta = Matrix.empty
    /// `batch x outputSize`: the result of `backwardOfInputGradient`.
    var secondOrderOutputGradient = Matrix.empty
    /// True between `differentiableInputGradient` and `backwardOfInputGradient`.
    var hasSecondOrderCache = false
    /// `dZ`'s panels for `dW += Xᵀ dZ` by our kernel.
    private let weightGradientPanels = PanelScratch()
    /// The buffers of `dX = dZ Wᵀ` by our kernel (`gemmTransposedB`).
    private let inputGradientScratch = TransposedBScratch()
    /// `dW` runs our kernel (`gemmTransposedA`) for batches of at most `ownWeightGradientRows`
    /// rows (a replica's share in batch split) and weights of at most this many elements:
    /// measured faster than OpenBLAS for the article GAN's and the VAE's weights, slower for the
    /// large GAN's 400K–800K-element ones.
    static let ownWeightGradientElements = 327_680
    /// The batch limit of our `dW` kernel. Larger batches (the GAN's stacked 128 real and fake
    /// rows of D) ran faster on one thread (1.03–1.04x) but in batch split fell into a mode
    /// 13 % slower in about half the runs (probably both replicas' kernels reading `X` once
    /// per 32 outputs at once: the mode went away when the kernel read `X` once, per 8-row
    /// tile, which then gained nothing measurable: paired 1.03, medians 1.00).
    static let ownWeightGradientRows = 64

    /// Whether `dW` of `rows` rows runs our kernel: within the limits above when OpenBLAS runs
    /// AVX-512 kernels, always when it runs narrower ones (`OpenBLASCore.isNarrowerThanOurs`).
    func ownsWeightGradient(rows: Int) -> Bool {
        guard weight.packing != nil else { return false }
        return OpenBLASCore.isNarrowerThanOurs
            || (rows <= Dense.ownWeightGradientRows && weight.storedValue.count <= Dense.ownWeightGradientElements)
    }
    /// The caller's input, kept between a training forward and backward only.
    private var input = Matrix.empty
    private var hasCache = false

    /// A layer with weights drawn by `initializer` from `rng`.
    /// - Precondition: sizes are positive; a `leakyReLU` slope is `>= 0` (backward reads the
    ///   derivative from the output's sign).
    public init(inputSize: Int, outputSize: Int, activation: Activation = .identity,
                initializer: Initializer = .pytorchDefault, rng: inout Xoshiro256) {
        precondition(inputSize > 0 && outputSize > 0,
                     "Dense: sizes must be positive, got \(inputSize) -> \(outputSize)")
        precondition(activation.derivativeFromOutputIsValid,
                     "Dense: leakyReLU needs negativeSlope >= 0, got \(activation)")
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.activation = activation
        let (w, b) = initializer.make(fanIn: inputSize, fanOut: outputSize, rng: &rng)
        weight = Parameter(name: "weight", value: w)
        // A panel is 64 columns wide (a last one of at most 32 runs 32-column tiles): a layer of
        // a few outputs (a discriminator's logit) would multiply mostly padding, and OpenBLAS
        // serves such thin products well.
        if PackedPanels.isAvailable && inputSize >= 16 && outputSize >= 16 { weight.packing = PackedWeight() }
        bias = Parameter(name: "bias", value: b)
        isFrozen = false
    }

    public var parameters: [Parameter] { [weight, bias] }

    /// Zeroes both gradients without building `parameters` (no allocation).
    public func zeroGradients() {
        weight.zeroGradient()
        bias.zeroGradient()
    }

    /// `f(X W + b)`, `batch x outputSize`. With `training`, keeps a reference to `x` for backward.
    /// - Precondition: `x.cols == inputSize`.
    public func forward(_ x: Matrix, training: Bool) -> Matrix {
        precondition(x.cols == inputSize,
                     "Dense: input is \(x.rows)x\(x.cols) but inputSize is \(inputSize)")
        input = .empty
        hasCache = false
        hasSecondOrderCache = false
        output.resize(rows: x.rows, cols: outputSize)
        if let panels = weight.packedPanels(forRows: x.rows) {
            gemm(x, packed: panels, into: &output)
        } else {
            gemm(x, weight.value, into: &output)
        }
        let rows = x.rows, cols = outputSize, act = activation
        bias.value.withUnsafeBufferPointer { b in
            output.withUnsafeMutableBufferPointer { y in
                guard let yb = y.baseAddress else { return }
                ActivationKernels.biasActivate(yb, rows: rows, cols: cols, bias: b.baseAddress, act)
            }
        }
        if training {
            input = x
            hasCache = true
        }
        return output
    }

    /// Accumulates `dW`, `db` (unless frozen) and returns `dX` (`batch x inputSize`) or
    /// `Matrix.empty` when `computesInputGradient` is false. Releases the cached input.
    /// - Precondition: follows `forward(_:training: true)`; `gradOutput` is `batch x outputSize`.
    public func backward(_ gradOutput: Matrix) -> Matrix {
        precondition(hasCache, "Dense: backward without a training forward")
        precondition(gradOutput.rows == output.rows && gradOutput.cols == output.cols,
                     "Dense: gradOutput is \(gradOutput.rows)x\(gradOutput.cols) but output is \(output.rows)x\(output.cols)")
        defer { input = .empty; hasCache = false }
        if isFrozen && !computesInputGradient { return .empty }

        let dZ: Matrix
        if activation == .identity {
            dZ = gradOutput
        } else {
            let n = gradOutput.count, act = activation
            preActivationGradient.resize(rows: gradOutput.rows, cols: gradOutput.cols)
            gradOutput.withUnsafeBufferPointer { dy in
                output.withUnsafeBufferPointer { y in
                    preActivationGradient.withUnsafeMutableBufferPointer { dz in
                        guard let dyb = dy.baseAddress, let yb = y.baseAddress,
                              let dzb = dz.baseAddress else { return }
                        ActivationKernels.backward(gradOutput: dyb, output: yb, into: dzb, count: n, act)
                    }
                }
            }
            dZ = preActivationGradient
        }
        if !isFrozen {
            let own = ownsWeightGradient(rows: dZ.rows)
            // dW is written whole by one product: after zeroGradient it is assigned (beta 0),
            // which saves the zeroing pass and reading the zeros.
            weight.writingGradient { dW, accumulate in
                if own {
                    gemmTransposedA(input, dZ, into: &dW, accumulate: accumulate, scratch: weightGradientPanels)
                } else {
                    gemm(input, dZ, into: &dW, transposeA: true, beta: accumulate ? 1 : 0)
                }
            }
            Matrix.columnSums(dZ, into: &bias.gradient, accumulate: true)
        }
        guard computesInputGradient else { return .empty }
        inputGradient.resize(rows: gradOutput.rows, cols: inputSize)
        // The products of a packed weight (the forward's rule), with W read from its panels.
        if let panels = weight.packedPanels(forRows: dZ.rows) {
            gemmTransposedB(dZ, packed: panels, into: &inputGradient, scratch: inputGradientScratch)
        } else {
            gemm(dZ, weight.value, into: &inputGradient, transposeB: true)
        }
        return inputGradient
    }

    public func releaseCaches() {
        input = .empty
        hasCache = false
        hasSecondOrderCache = false
    }

    /// `weight` as `nn.Linear.weight` (`[out, in]`, transposed), `bias` 1-D `[out]`.
    public var stateEntries: [StateEntry] {
        [.transposedParameter(weight), .parameter(bias, oneD: true)]
    }

    /// Linear, plus the activation module when there is one.
    public var moduleCount: Int { activation == .identity ? 1 : 2 }

    public func outputFeatures(for inputFeatures: Int) -> Int? {
        inputFeatures == inputSize ? outputSize : nil
    }

    /// One `1 x in` by `in x out` product per sample.
    public var forwardFLOPsPerSample: Int { 2 * inputSize * outputSize }

    /// `dW = Xᵀ dZ` and `dX = dZ Wᵀ` each cost what the forward gemm does.
    public func backwardFLOPsPerSample(inputGradient: Bool, weightGradient: Bool) -> Int {
        (inputGradient ? forwardFLOPsPerSample : 0) + (weightGradient ? forwardFLOPsPerSample : 0)
    }
}
