/// Architecture and training settings of the reference MNIST classifier (`MNISTClassifier`,
/// trained by `ClassifierTrainer`). Codable: saved in a run's `config.json`.
public struct ClassifierConfig: Codable, Sendable, Equatable {
    /// Values per input row (784 for 28x28 MNIST), in [0, 1].
    public var dataDim: Int = 784
    /// Hidden ReLU widths, input side first (at least one).
    public var hidden: [Int] = [512, 256]
    /// Number of classes (logits per row); labels must lie in `0..<classes`.
    public var classes: Int = 10
    /// Adam's base learning rate, annealed by a cosine schedule over the run's epochs.
    public var learningRate: Float = 1e-3

    public init() {}

    /// Every layer width, input first: `[dataDim] + hidden + [classes]`.
    public var widths: [Int] { [dataDim] + hidden + [classes] }

    /// Checks the settings; throws `ConfigError` naming the first bad field.
    public func validate() throws {
        if hidden.isEmpty { throw ConfigError("the classifier needs at least one hidden layer") }
        if let w = widths.first(where: { $0 < 1 }) { throw ConfigError("layer sizes must be at least 1, got \(w)") }
        if !(learningRate > 0) || !learningRate.isFinite {
            throw ConfigError("lr must be a positive number, got \(learningRate)")
        }
    }
}
