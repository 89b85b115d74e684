import Linalg

/// A network that also sees a class label: its input is the caller's `x` followed by the
/// label's one-hot vector, each of its `numClasses` values repeated `spatial` times.
///
/// - `spatial == 1`: `[x | onehot(y)]`, the concatenation of the conditional GAN (Mirza &
///   Osindero 2014, "Conditional Generative Adversarial Nets", section 4.1: y one-hot, joined
///   to z in G and to x in D) and of the conditional VAE (Sohn, Lee & Yan 2015, "Learning
///   Structured Output Representation using Deep Conditional Generative Models": encoder and
///   decoder both see the label).
/// - `spatial == H·W` for an image of C channels in NCHW order (`x` is `C·H·W` per row): the
///   label becomes `numClasses` extra constant channels, one-hot across channels (the
///   `conv_cond_concat` of the DCGAN authors' conditional MNIST model, e.g. carpedm20's
///   DCGAN-tensorflow), so a convolution sees `C + numClasses` input channels.
///
/// The wrapped network takes `n + numClasses·spatial` values per row and is used as is: its
/// state dict (names and shapes) is the wrapped network's, which is what a PyTorch module fed
/// `torch.cat([x, onehot], 1)` holds. Labels are set before each forward with `setLabels`
/// (the `Layer` protocol takes one input; a label is data, not a parameter) and are copied, so
/// the caller's array is not retained. `backward` returns the gradient with respect to `x`
/// only (the label is not differentiable). Buffers are reused: at a fixed batch size nothing
/// is allocated.
public final class LabelConditioned: Layer, InputGradientDifferentiable {
    /// The network fed `[x | label values]`.
    public let network: any Layer
    /// Number of classes K: labels are `0..<numClasses`.
    public let numClasses: Int
    /// Times each one-hot value is repeated (1 for vectors, `H·W` for label channels).
    public let spatial: Int
    private let secondOrder: (any InputGradientDifferentiable)?
    /// `LabelConditioned` layers inside `network` (found through `Sequential`s) that get the
    /// same labels, so a label can enter every layer (e.g. a decoder conditioned at each layer).
    private let nested: [LabelConditioned]
    private var labels: [Int32] = []
    private var input = Matrix.empty        // B x (n + K·spatial)
    private var gradInput = Matrix.empty    // B x n
    private var padded = Matrix.empty       // B x (n + K·spatial): [ḡ_in | 0]
    private var inputWidth = 0              // n of the last forward

    /// - Precondition: `numClasses >= 1`, `spatial >= 1` (the factories' constants).
    public init(_ network: any Layer, numClasses: Int, spatial: Int = 1) {
        precondition(numClasses >= 1 && spatial >= 1, "LabelConditioned: \(numClasses) classes, spatial \(spatial)")
        self.network = network
        self.numClasses = numClasses
        self.spatial = spatial
        secondOrder = network as? any InputGradientDifferentiable
        nested = LabelConditioned.inner(network)
    }

    private static func inner(_ layer: any Layer) -> [LabelConditioned] {
        if let l = layer as? LabelConditioned { return [l] }
        if let s = layer as? Sequential { return s.layers.flatMap(inner) }
        return []
    }

    /// Values appended to each input row: `numClasses · spatial`.
    public var labelWidth: Int { numClasses * spatial }

    /// The labels of the next forward's rows, one per row, each in `0..<numClasses`.
    /// - Precondition: every label is in range (callers validate user input first).
    public func setLabels(_ values: [Int32]) {
        setLabels(count: values.count) { values[$0] }
    }

    /// Sets `count` labels, row `i` getting `label(i)` (e.g. a stacked [real; fake] batch's
    /// labels repeated, or one label per (image, sample) pair), here and in the nested
    /// `LabelConditioned` layers. No allocation once sized.
    public func setLabels(count: Int, _ label: (Int) -> Int32) {
        labels.removeAll(keepingCapacity: true)
        for i in 0..<count {
            let y = label(i)
            precondition(y >= 0 && Int(y) < numClasses, "LabelConditioned: label \(y) of row \(i) not in 0..<\(numClasses)")
            labels.append(y)
        }
        for l in nested { l.setLabels(count: count) { labels[$0] } }
    }

    public func forward(_ x: Matrix, training: Bool) -> Matrix {
        precondition(x.rows == labels.count,
                     "LabelConditioned: \(x.rows) rows but \(labels.count) labels set (setLabels first)")
        // The network may still hold the last `input` in its caches: release them first so
        // the write below does not copy it.
        network.releaseCaches()
        inputWidth = x.cols
        let width = x.cols + labelWidth
        input.resize(rows: x.rows, cols: width)
        let n = x.cols, s = spatial
        x.withUnsafeBufferPointer { src in
            input.withUnsafeMutableBufferPointer { dst in
                for r in 0..<labels.count {
                    let o = r &* width
                    for j in 0..<n { dst[o &+ j] = src[r &* n &+ j] }
                    for j in n..<width { dst[o &+ j] = 0 }
                    let start = o &+ n &+ Int(labels[r]) &* s
                    for j in 0..<s { dst[start &+ j] = 1 }
                }
            }
        }
        return network.forward(input, training: training)
    }

    public func backward(_ gradOutput: Matrix) -> Matrix {
        let g = network.backward(gradOutput)
        if g.rows == 0 && g.cols == 0 { return .empty }
        return firstColumns(of: g)
    }

    /// `g`'s first `inputWidth` columns (the gradient with respect to `x`) in `gradInput`.
    private func firstColumns(of g: Matrix) -> Matrix {
        let n = inputWidth, width = g.cols
        gradInput.resize(rows: g.rows, cols: n)
        g.withUnsafeBufferPointer { src in
            gradInput.withUnsafeMutableBufferPointer { dst in
                for r in 0..<g.rows {
                    for j in 0..<n { dst[r &* n &+ j] = src[r &* width &+ j] }
                }
            }
        }
        return gradInput
    }

    public var parameters: [Parameter] { network.parameters }
    public var isFrozen: Bool {
        get { network.isFrozen }
        set { network.isFrozen = newValue }
    }
    public var computesInputGradient: Bool {
        get { network.computesInputGradient }
        set { network.computesInputGradient = newValue }
    }
    public func zeroGradients() { network.zeroGradients() }
    public func releaseCaches() { network.releaseCaches() }
    /// The wrapped network's entries, unprefixed.
    public var stateEntries: [StateEntry] { network.stateEntries }
    public var moduleCount: Int { network.moduleCount }
    public func outputFeatures(for inputFeatures: Int) -> Int? {
        network.outputFeatures(for: inputFeatures + labelWidth)
    }
    public var forwardFLOPsPerSample: Int { network.forwardFLOPsPerSample }
    public func backwardFLOPsPerSample(inputGradient: Bool, weightGradient: Bool) -> Int {
        network.backwardFLOPsPerSample(inputGradient: inputGradient, weightGradient: weightGradient)
    }
    public var usesBatchStatistics: Bool { network.usesBatchStatistics }

    // Double backward: the label columns are constants, so ∂P/∂(label columns) = 0 and only
    // the x columns of the input gradient are returned (a penalty on ∇_x D, not ∇_y D).

    public var secondOrderProblem: String? {
        guard let secondOrder else { return "\(type(of: network)) has no double backward" }
        return secondOrder.secondOrderProblem
    }

    public func differentiableInputGradient(_ gradOutput: Matrix) -> Matrix {
        firstColumns(of: secondOrder!.differentiableInputGradient(gradOutput))
    }

    public func backwardOfInputGradient(_ gradInputGradient: Matrix) -> Matrix {
        let n = inputWidth, width = n + labelWidth
        padded.resize(rows: gradInputGradient.rows, cols: width)
        gradInputGradient.withUnsafeBufferPointer { src in
            padded.withUnsafeMutableBufferPointer { dst in
                for r in 0..<gradInputGradient.rows {
                    for j in 0..<n { dst[r &* width &+ j] = src[r &* n &+ j] }
                    for j in n..<width { dst[r &* width &+ j] = 0 }
                }
            }
        }
        return secondOrder!.backwardOfInputGradient(padded)
    }
}
