import Linalg

/// The parameters of one network (the ones one optimiser updates) with all their gradients in
/// one contiguous buffer.
///
/// Building a group makes each parameter's `gradient` a view into `gradients` (values are
/// copied in), so a pass over every gradient — the non-finite check, a global norm, a scale,
/// an allreduce — is one loop or one call over `gradients`, and allocates nothing. A parameter
/// belongs to the group built over it last; build one group per network, once.
public final class ParameterGroup {
    /// State-dict names of the parameters (`2.weight`, `mu.bias`), for messages.
    public let names: [String]
    public let parameters: [Parameter]
    /// Offset of each parameter's gradient in `gradients`.
    public let offsets: [Int]
    /// `1 x count`: every parameter's gradient, in `parameters` order, row-major each. Writes
    /// through: changing it changes the parameters' gradients.
    public var gradients: Matrix {
        settleGradients()
        return buffer
    }
    /// The storage `gradients` shows (zeros `zeroGradients()` left pending not yet written).
    private var buffer: Matrix
    /// The rows of the global batch whose mean loss these gradients are of (set by a trainer
    /// before its gradient hooks run; nil: the whole batch). The allreduce hook scales by it.
    public var shard: RowShard?

    /// A group over `named` parameters (names for messages).
    public init(_ named: [(name: String, parameter: Parameter)]) {
        names = named.map(\.name)
        parameters = named.map(\.parameter)
        var offsets: [Int] = []
        var total = 0
        for p in parameters {
            offsets.append(total)
            total += p.value.count
        }
        self.offsets = offsets
        buffer = Matrix.sharedBuffer(count: total)
        for (p, o) in zip(parameters, offsets) {
            p.bindGradient(to: buffer.view(offset: o, rows: p.value.rows, cols: p.value.cols))
        }
    }

    /// A group over the parameters of `networks` (state-dict order), names prefixed.
    public convenience init(_ networks: [(prefix: String, network: any Layer)]) {
        self.init(networks.flatMap { n in
            n.network.stateEntries.compactMap { e in e.parameter.map { (n.prefix + e.name, $0) } }
        })
    }

    /// A group over one network's parameters.
    public convenience init(_ network: any Layer) {
        self.init([(prefix: "", network: network)])
    }

    /// Number of scalar parameters (the length of `gradients`).
    public var count: Int { buffer.count }

    /// Zeroes every gradient (no allocation): each parameter's `zeroGradient()`, whose zeros
    /// are written when next read, here or through the parameter, unless a layer's backward
    /// overwrites the whole gradient first (Dense: `dW` assigned, not added to a zeroed buffer).
    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    /// Writes the zeros still pending from `zeroGradients()` (the parameters no backward has
    /// written since), so the buffer holds every gradient.
    private func settleGradients() { for p in parameters { p.settleGradient() } }

    /// The name of the first parameter whose gradient holds a NaN or inf, or nil when all are
    /// finite. One pass over `gradients`; allocates only to name a non-finite one.
    public func firstNonFiniteGradient() -> String? {
        if gradients.allFinite() { return nil }
        return zip(names, parameters).first { !$0.1.gradient.allFinite() }?.0 ?? "?"
    }

    /// The L2 norm of all gradients taken as one vector, `sqrt(sum of g²)` (accumulated in
    /// Double), as `torch.nn.utils.clip_grad_norm_` computes its total norm.
    public func gradientNorm() -> Double {
        gradients.withUnsafeBufferPointer { g in
            var sum = 0.0
            for x in g { sum += Double(x) * Double(x) }
            return sum.squareRoot()
        }
    }

    /// Calls `body` with every gradient as one mutable buffer (for a reduction across
    /// processes); writes go to the parameters' gradients. No allocation.
    public func withMutableGradients<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        settleGradients()
        return try buffer.withUnsafeMutableBufferPointer(body)
    }

    /// Multiplies every gradient by `factor` in place.
    public func scaleGradients(by factor: Float) {
        settleGradients()
        buffer.scale(by: factor)
    }
}
