import Foundation
import Linalg
import NN

/// Trains an `MNISTClassifier` one mini-batch at a time on softmax cross-entropy (the mean over
/// the batch, PyTorch's `CrossEntropyLoss`), each update in three phases: the loss and its
/// gradients, the gradient hooks (`gradientHooks`: by default the non-finite check), the
/// optimiser. All buffers are allocated on the first step; later steps at the same batch size
/// perform no heap allocation.
public final class ClassifierTrainer {
    public let model: MNISTClassifier
    public let optimizer: Optimizer
    /// The network's parameters with their gradients in one buffer (what the hooks see).
    public let parameterGroup: ParameterGroup
    /// Run on the gradients before each update, in order.
    public var gradientHooks: [GradientHook] = [.nonFiniteCheck]
    /// Completed steps.
    public private(set) var step = 0
    private var lossGradient = Matrix.empty

    /// - Parameter optimizer: over `model.network.parameters`.
    public init(model: MNISTClassifier, optimizer: Optimizer) {
        self.model = model
        self.optimizer = optimizer
        parameterGroup = ParameterGroup(model.network)
    }

    /// Adam (PyTorch's defaults, betas 0.9 and 0.999) at `config.learningRate`, annealed per
    /// epoch by `CosineAnnealing(epochs:)` (call `optimizer.startEpoch(e)` before epoch `e`).
    /// - Precondition: `epochs >= 1`.
    public convenience init(model: MNISTClassifier, config: ClassifierConfig, epochs: Int) {
        let adam = Adam(parameters: model.network.parameters, learningRate: config.learningRate)
        adam.schedule = CosineAnnealing(epochs: epochs)
        self.init(model: model, optimizer: adam)
    }

    /// Restores the step counter (when resuming from a checkpoint).
    public func restore(step: Int) { self.step = step }

    /// One training step on images `x` (`B x inputSize`, in [0, 1]) with their classes `labels`
    /// (`B` entries in `0..<classes`).
    /// - Returns: the batch's mean cross-entropy in nats (before the update).
    /// - Throws: `NonFiniteError` when the loss or a gradient is NaN or inf (`classifier loss`,
    ///   `classifier 2.weight gradient`), and whatever a hook throws; no update is applied then.
    /// - Precondition: `labels.count == x.rows`, each label in range (checked when the data is
    ///   accepted, e.g. by `ClassifierJob.make`).
    @discardableResult
    public func step(images x: Matrix, labels: [Int32]) throws -> Float {
        step += 1
        parameterGroup.zeroGradients()
        let logits = model.network.forward(x, training: true)
        let loss = Loss.softmaxCrossEntropy(logits: logits, labels: labels, reduction: .mean,
                                            gradient: &lossGradient)
        guard loss.isFinite else { throw NonFiniteError(step: step, location: "classifier loss") }
        _ = model.network.backward(lossGradient)
        try runHooks(gradientHooks, on: parameterGroup, network: "classifier", step: step)
        optimizer.step()
        return loss
    }
}
