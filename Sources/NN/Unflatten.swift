import Linalg

/// PyTorch's `nn.Unflatten(1, (channels, height, width))`: `batch x (C·H·W)` to
/// `batch x C x H x W`. Rows here already hold a sample in NCHW order, so forward and backward
/// return their argument unchanged; the layer checks the size and keeps `Sequential`'s module
/// numbering (and state-dict keys) equal to the equivalent `nn.Sequential`'s.
public final class Unflatten: Layer {
    public let channels: Int, height: Int, width: Int
    /// No parameters: has no effect, kept for `Layer`.
    public var isFrozen: Bool = false
    /// When false, backward returns `Matrix.empty`.
    public var computesInputGradient: Bool = true

    /// - Precondition: positive sizes.
    public init(channels: Int, height: Int, width: Int) {
        precondition(channels > 0 && height > 0 && width > 0, "Unflatten: sizes must be positive")
        self.channels = channels; self.height = height; self.width = width
    }

    public var parameters: [Parameter] { [] }

    /// `x`, unchanged.
    /// - Precondition: `x.cols == channels * height * width`.
    public func forward(_ x: Matrix, training: Bool) -> Matrix {
        precondition(x.cols == channels * height * width,
                     "Unflatten: input is \(x.rows)x\(x.cols) but expects \(channels)x\(height)x\(width)")
        return x
    }

    /// `gradOutput`, unchanged (or `Matrix.empty` when the input gradient is switched off).
    public func backward(_ gradOutput: Matrix) -> Matrix {
        computesInputGradient ? gradOutput : .empty
    }

    public func outputFeatures(for inputFeatures: Int) -> Int? {
        inputFeatures == channels * height * width ? inputFeatures : nil
    }
}
