import Linalg

/// A trainable tensor of a layer: its value and the gradient accumulated by `backward`.
///
/// A class so that a layer, its optimiser and a checkpoint all see the same storage: optimisers
/// update `value` in place and never allocate.
public final class Parameter {
    /// The name inside its layer, e.g. `weight`, `bias`.
    public let name: String
    /// The parameter's value.
    public var value: Matrix
    /// The gradient of the loss with respect to `value`, same shape; accumulated by `backward`
    /// (as in PyTorch) until `zeroGradient()`.
    public var gradient: Matrix
    /// A frozen parameter gets no gradient and is skipped by optimisers.
    public var isFrozen: Bool = false

    public init(name: String, value: Matrix) {
        self.name = name
        self.value = value
        self.gradient = Matrix(rows: value.rows, cols: value.cols)
    }

    /// Sets the gradient to zero in place (no allocation).
    public func zeroGradient() { gradient.fill(0) }
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
}

extension Layer {
    /// `forward(x, training: true)`.
    public func forward(_ x: Matrix) -> Matrix { forward(x, training: true) }

    /// Zeroes `parameters`' gradients (a layer with a stored list may override to avoid
    /// building the array).
    public func zeroGradients() { for p in parameters { p.zeroGradient() } }
}
