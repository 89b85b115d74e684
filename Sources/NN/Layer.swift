import Linalg

/// A trainable tensor of a layer: its value and the gradient accumulated by `backward`.
///
/// A class so that a layer, its optimiser and a checkpoint all see the same storage: optimisers
/// update `value` in place and never allocate. Once a `ParameterGroup` is built over a
/// parameter, its `gradient` is a view into the group's one contiguous buffer (assigning a new
/// matrix copies the elements into that view).
public final class Parameter {
    /// The name inside its layer, e.g. `weight`, `bias`.
    public let name: String
    /// The parameter's value.
    ///
    /// While an optimiser keeps a packed weight only in panels (Adam on AVX-512 CPUs: its own
    /// panels, or under batch split those the replicas share, `Optimizer.shareUpdates(over:)`),
    /// reading or writing it first copies the current values back from the panels, once per
    /// update (Dense's products, Adam and the allreduce never read it; EMA, WGAN-GP's
    /// second-order pass, weight clipping and products of more than 2,048 rows do, each step).
    /// A read then writes the parameter: like any mutation, only from the thread that trains it.
    public var value: Matrix {
        get {
            synchronizeValue()
            return storedValue
        }
        _modify {
            synchronizeValue()
            yield &storedValue
        }
        set {
            // A matrix saved from `value` before the panels moved on carries the stamp they were
            // recorded with: forget them, so the products and the next update repack.
            if valueLivesIn != nil { packing?.invalidate() }
            valueLivesIn = nil
            storedValue = newValue
        }
    }
    /// `value` as stored, without copying back from panels: current unless `valueLivesIn` is set.
    var storedValue: Matrix
    /// Set while the current values live only in these panels (written there by an optimiser's
    /// update), so that `storedValue` is stale; cleared by `synchronizeValue()`.
    var valueLivesIn: PackedPanels?
    private var storedGradient: Matrix
    /// A frozen parameter gets no gradient and is skipped by optimisers.
    public var isFrozen: Bool = false
    /// For a weight its layer multiplies by with `gemm(_:packed:)` (Dense, on AVX-512 CPUs):
    /// which packed copy holds `value`'s current elements. Nil for every other parameter.
    var packing: PackedWeight?

    public init(name: String, value: Matrix) {
        self.name = name
        self.storedValue = value
        self.storedGradient = Matrix(rows: value.rows, cols: value.cols)
    }

    /// True after `zeroGradient()` until the gradient is next read or written: it reads as
    /// zero, but its elements are set only then, so a layer whose backward writes the whole
    /// gradient (Dense's `dW`) overwrites it instead of zeroing it and adding to the zeros.
    private var gradientIsPendingZero = false

    /// The gradient of the loss with respect to `value`, same shape; accumulated by `backward`
    /// (as in PyTorch) until `zeroGradient()`.
    public var gradient: Matrix {
        get {
            settleGradient()
            return storedGradient
        }
        _modify {
            settleGradient()
            yield &storedGradient
        }
        set {
            gradientIsPendingZero = false
            // Keep a group's view: copy the elements in rather than replacing the matrix.
            if storedGradient.writesThrough { storedGradient.assign(newValue) } else { storedGradient = newValue }
        }
    }

    /// Copies the current values back from the panels they live in (`valueLivesIn`), if any,
    /// and records that those panels hold them (the products keep reading the panels).
    ///
    /// Why it cannot race with the panels' writers: only an optimiser's update writes them — an
    /// unshared one on this thread (its row-split workers done before it returns), a shared one
    /// between two barriers every replica must reach — so not while this thread is here.
    func synchronizeValue() {
        guard let panels = valueLivesIn else { return }
        valueLivesIn = nil
        panels.unpackAll(into: &storedValue)
        packing?.packed(by: panels, for: storedValue)
    }

    /// Readies `panels` for an optimiser to update elements `part` of this packed weight in
    /// them (and to keep it there): values kept in other panels come back first (nobody writes
    /// those now), and `part` is packed unless the panels already hold the current values (the
    /// first update, or after a write of `value`).
    func prepareToUpdate(in panels: PackedPanels, part: Range<Int>) {
        if valueLivesIn !== panels { synchronizeValue() }
        if !part.isEmpty && !packing!.holds(panels, for: storedValue) {
            storedValue.withUnsafeBufferPointer { panels.pack($0.baseAddress!, elements: part) }
        }
    }

    /// Makes `gradient` the view `buffer` (same shape), copying the current values into it.
    func bindGradient(to view: Matrix) {
        precondition(view.rows == value.rows && view.cols == value.cols && view.writesThrough,
                     "Parameter.bindGradient: view \(view.rows)x\(view.cols) for \(value.rows)x\(value.cols)")
        settleGradient()
        var v = view
        v.assign(storedGradient)
        storedGradient = v
    }

    /// Sets the gradient to zero (no allocation). The elements are written when the gradient is
    /// next read or written, unless a layer overwrites them all first
    /// (`writingGradient(_:)`), as PyTorch's `zero_grad(set_to_none=True)` lets the next
    /// backward assign rather than add.
    public func zeroGradient() { gradientIsPendingZero = true }

    /// Writes the zeros `zeroGradient()` left pending.
    func settleGradient() {
        guard gradientIsPendingZero else { return }
        gradientIsPendingZero = false
        storedGradient.fill(0)
    }

    /// For a layer that writes every element of the gradient in one product: `body` gets the
    /// gradient and whether to add to it (false: it is zero, overwrite it without reading it).
    func writingGradient<R>(_ body: (inout Matrix, _ accumulate: Bool) -> R) -> R {
        let accumulate = !gradientIsPendingZero
        gradientIsPendingZero = false
        return body(&storedGradient, accumulate)
    }

    /// This weight's own panels for an optimiser to keep it in (`Optimizer.updatesInPanels`), or
    /// nil when it is not packed (or is a view of a shared buffer). Allocates at the first call.
    func panelsForUpdate() -> PackedPanels? {
        guard packing != nil, !storedValue.writesThrough else { return nil }
        return packing!.ownPanels(for: storedValue)
    }

    /// `value` as panels for a product of `rows` rows by it, or nil when the product should go
    /// to OpenBLAS (not a packed weight, or more rows than the packed kernel serves).
    func packedPanels(forRows rows: Int) -> PackedPanels? {
        // storedValue: while the values live in the shared panels, `packing` holds them.
        packs(rows: rows) ? packing!.panels(for: storedValue) : nil
    }

    /// Whether a product of `rows` rows by `value` runs over packed panels.
    func packs(rows: Int) -> Bool {
        // A view of a shared buffer may be written by several threads at once: not packable.
        packing != nil && rows <= PackedPanels.maximumRows && !storedValue.writesThrough
    }
}

/// One tensor of a layer's state dict, as PyTorch's `state_dict()` lists it.
public struct StateEntry {
    /// A trainable parameter (optimised) or a buffer (saved and loaded, never optimised, such
    /// as BatchNorm's running statistics).
    public enum Kind: Sendable { case parameter, buffer }

    /// The key, e.g. `weight`, or `2.weight` inside a `Sequential`.
    public var name: String
    /// PyTorch's shape of the tensor (a Linear bias is `[out]`, its weight `[out, in]`).
    public let shape: [Int]
    public let kind: Kind
    /// The parameter behind a `.parameter` entry (nil for buffers).
    public let parameter: Parameter?
    /// The tensor in PyTorch's layout, `shape[0] x (product of the rest)` (a 1-D tensor is
    /// `1 x n`). Allocates when the layout differs from the stored one.
    public let read: () -> Matrix
    /// Stores a tensor given in `read`'s layout (shape already checked by the caller).
    public let write: (Matrix) -> Void

    public init(name: String, shape: [Int], kind: Kind, parameter: Parameter?,
                read: @escaping () -> Matrix, write: @escaping (Matrix) -> Void) {
        self.name = name
        self.shape = shape
        self.kind = kind
        self.parameter = parameter
        self.read = read
        self.write = write
    }

    /// A parameter stored as PyTorch stores it: `[rows, cols]`, or `[cols]` when `oneD`.
    public static func parameter(_ p: Parameter, oneD: Bool = false) -> StateEntry {
        let shape = oneD ? [p.value.cols] : [p.value.rows, p.value.cols]
        return StateEntry(name: p.name, shape: shape, kind: .parameter, parameter: p,
                          read: { p.value }, write: { p.value.assign($0) })
    }

    /// A parameter stored transposed relative to PyTorch (a `Dense` weight is `in x out`,
    /// `nn.Linear.weight` is `out x in`).
    public static func transposedParameter(_ p: Parameter) -> StateEntry {
        StateEntry(name: p.name, shape: [p.value.cols, p.value.rows], kind: .parameter, parameter: p,
                   read: { p.value.transposed() }, write: { p.value.assign($0.transposed()) })
    }

    /// `rows x cols` of `read`'s layout: `1 x n` for a 1-D tensor, otherwise the first dimension
    /// by the product of the others.
    public var matrixShape: [Int] {
        switch shape.count {
        case 0: return [1, 1]
        case 1: return [1, shape[0]]
        default: return [shape[0], shape.dropFirst().reduce(1, *)]
        }
    }
}

/// A differentiable building block with an explicit forward and backward pass.
///
/// Inputs and outputs are `batch x features` matrices (one sample per row).
/// `forward(_:training:)` with `training == true` keeps what `backward` needs (a reference to the
/// input and/or its own output buffers); `backward` uses and then releases it, so a layer holds
/// no reference to its caller's buffers between steps (this keeps the training step free of
/// copy-on-write copies and heap allocation). The returned matrices share the layer's work
/// buffers: they are values, so keeping one across the next call costs a copy, never a wrong
/// result.
public protocol Layer: AnyObject {
    /// Output for input `x` (`batch x inputSize` -> `batch x outputSize`).
    func forward(_ x: Matrix, training: Bool) -> Matrix
    /// Given dLoss/dOutput (`batch x outputSize`), accumulates parameter gradients (unless
    /// frozen) and returns dLoss/dInput (`batch x inputSize`), or `Matrix.empty` when the input
    /// gradient is switched off. Must follow a `forward(_:training: true)` on the same batch.
    func backward(_ gradOutput: Matrix) -> Matrix
    /// The layer's parameters, with names unique within the layer.
    var parameters: [Parameter] { get }
    /// When true, `backward` computes no parameter gradient and optimisers skip the parameters.
    var isFrozen: Bool { get set }
    /// When false, `backward` skips dLoss/dInput (for a network's first layer).
    var computesInputGradient: Bool { get set }
    /// Sets every parameter's gradient to zero in place (no allocation).
    func zeroGradients()
    /// Drops the references cached by a training `forward` without running `backward`
    /// (assigning `Matrix.empty`, no allocation). `Sequential.forward` calls it on every layer
    /// first, so the buffers the layers are about to rewrite are uniquely referenced.
    func releaseCaches()
    /// The layer's state-dict entries (parameters and buffers) in PyTorch's order, names and
    /// shapes. Default: every parameter as stored, `[rows, cols]`.
    var stateEntries: [StateEntry] { get }
    /// How many modules of an equivalent `nn.Sequential` this layer stands for (a `Dense` with a
    /// fused activation is two: Linear, then the activation). Default 1.
    var moduleCount: Int { get }
    /// Output features for `inputFeatures` input features per sample (nil when the input size
    /// does not fit the layer).
    func outputFeatures(for inputFeatures: Int) -> Int?
    /// Floating-point operations of one forward pass per sample (2 per multiply-add of a gemm;
    /// element-wise work not counted). Default 0.
    var forwardFLOPsPerSample: Int { get }
    /// Floating-point operations of one backward pass per sample: the weight gradients when
    /// `weightGradient`, the input gradient when `inputGradient` (a container asks its first
    /// layer for the input gradient only when `inputGradient`, and the others always).
    /// Default 0.
    func backwardFLOPsPerSample(inputGradient: Bool, weightGradient: Bool) -> Int
    /// True when a training forward's output for one sample depends on the other samples of
    /// the batch (BatchNorm's batch statistics), so that running two batches stacked is not
    /// the same as running them apart. Default false.
    var usesBatchStatistics: Bool { get }
}

extension Layer {
    /// `forward(x, training: true)`.
    public func forward(_ x: Matrix) -> Matrix { forward(x, training: true) }

    /// Zeroes `parameters`' gradients (a layer with a stored list may override to avoid
    /// building the array).
    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    public func releaseCaches() {}

    public var stateEntries: [StateEntry] { parameters.map { StateEntry.parameter($0) } }

    public var moduleCount: Int { 1 }

    /// Shape-preserving by default (activations).
    public func outputFeatures(for inputFeatures: Int) -> Int? { inputFeatures }

    public var forwardFLOPsPerSample: Int { 0 }

    public func backwardFLOPsPerSample(inputGradient: Bool, weightGradient: Bool) -> Int { 0 }

    public var usesBatchStatistics: Bool { false }
}
