import Linalg

/// Inverted dropout (Srivastava et al. 2014, with the `1 / (1 - p)` scaling at training time
/// that PyTorch's `nn.Dropout(p)` uses): in training `Y = X ⊙ M`, where each `M` entry is
/// independently `1 / (1 - p)` with probability `1 - p` and 0 with probability `p` (all 0 when
/// `p == 1`); in evaluation `Y = X`. Backward: `dX = dY ⊙ M`.
///
/// Shapes: any `batch x features`, unchanged. The mask is drawn from the layer's own
/// `Xoshiro256` (`rng`, explicit and saveable), one uniform `u` in `[0, 1)` per element, kept
/// when `u >= p`. The mask buffer is reused: no heap allocation in steady state.
public final class Dropout: Layer {
    /// The probability of zeroing an element, in `[0, 1]`.
    public let probability: Float
    /// The generator the masks are drawn from (advanced by every training forward).
    public var rng: Xoshiro256
    /// No parameters: has no effect, kept for `Layer`.
    public var isFrozen: Bool = false
    public var computesInputGradient: Bool = true

    private var mask = Matrix.empty
    private var output = Matrix.empty
    private var inputGradient = Matrix.empty
    private var hasCache = false

    /// - Precondition: `0 <= probability <= 1`.
    public init(probability: Float, rng: Xoshiro256) {
        precondition(probability >= 0 && probability <= 1, "Dropout: probability \(probability) is not in [0, 1]")
        self.probability = probability
        self.rng = rng
    }

    /// A layer whose generator is `Xoshiro256(seed: seed)`.
    public convenience init(probability: Float, seed: UInt64) {
        self.init(probability: probability, rng: Xoshiro256(seed: seed))
    }

    public var parameters: [Parameter] { [] }

    /// `X ⊙ M` with a fresh mask in training; `x` itself in evaluation.
    public func forward(_ x: Matrix, training: Bool) -> Matrix {
        hasCache = false
        guard training else { return x }
        mask.resize(rows: x.rows, cols: x.cols)
        output.resize(rows: x.rows, cols: x.cols)
        let p = probability, scale: Float = probability < 1 ? 1 / (1 - probability) : 0
        mask.withUnsafeMutableBufferPointer { m in
            rng.fillUniform(m)
            for i in 0..<m.count { m[i] = m[i] >= p ? scale : 0 }
            x.withUnsafeBufferPointer { xs in
                output.withUnsafeMutableBufferPointer { y in
                    Self.multiply(xs.baseAddress!, UnsafePointer(m.baseAddress!), into: y.baseAddress!, count: m.count)
                }
            }
        }
        hasCache = true
        return output
    }

    /// `dY ⊙ M`, or `Matrix.empty` when `computesInputGradient` is false.
    /// - Precondition: follows `forward(_:training: true)`; `gradOutput` has the output's shape.
    public func backward(_ gradOutput: Matrix) -> Matrix {
        precondition(hasCache, "Dropout: backward without a training forward")
        precondition(gradOutput.rows == mask.rows && gradOutput.cols == mask.cols,
                     "Dropout: gradOutput is \(gradOutput.rows)x\(gradOutput.cols) but output is \(mask.rows)x\(mask.cols)")
        hasCache = false
        guard computesInputGradient else { return .empty }
        inputGradient.resize(rows: mask.rows, cols: mask.cols)
        gradOutput.withUnsafeBufferPointer { dy in
            mask.withUnsafeBufferPointer { m in
                inputGradient.withUnsafeMutableBufferPointer { dx in
                    Self.multiply(dy.baseAddress!, m.baseAddress!, into: dx.baseAddress!, count: m.count)
                }
            }
        }
        return inputGradient
    }

    /// `out[i] = a[i] * b[i]`.
    private static func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                 into out: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { out[i] = a[i] * b[i] }
    }

    public func releaseCaches() { hasCache = false }
}
