import Linalg

/// PyTorch's `nn.Flatten()` (`start_dim 1`): `batch x C x H x W` to `batch x (C·H·W)`. Rows are
/// already flat here (one sample per row, NCHW order inside it), so forward and backward return
/// their argument unchanged; the layer exists so that a `Sequential` numbers its modules (and
/// state-dict keys) like the equivalent `nn.Sequential`.
public final class Flatten: Layer {
    /// No parameters: has no effect, kept for `Layer`.
    public var isFrozen: Bool = false
    /// When false, backward returns `Matrix.empty`.
    public var computesInputGradient: Bool = true

    public init() {}

    public var parameters: [Parameter] { [] }

    /// `x`, unchanged.
    public func forward(_ x: Matrix, training: Bool) -> Matrix { x }

    /// `gradOutput`, unchanged (or `Matrix.empty` when the input gradient is switched off).
    public func backward(_ gradOutput: Matrix) -> Matrix {
        computesInputGradient ? gradOutput : .empty
    }
}
