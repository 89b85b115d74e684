import Foundation
import Generative

/// Where a training step stands, for progress displays (passed to `TrainingCallbacks.step`).
public struct StepReport {
    /// Epoch in progress (1-based) and the run's total.
    public let epoch: Int, epochs: Int
    /// Batches of this epoch done (including this one) and per epoch.
    public let batch: Int, batches: Int
    /// Optimisation steps so far.
    public let step: Int
    /// Samples per second over the epoch so far.
    public let samplesPerSecond: Double
    /// The step metrics' names (`TrainingJob.stepColumns`) and their sums over the epoch so far.
    public let columns: [String]
    public let sums: MetricSums

    /// Epoch-so-far mean of each column (NaN where none was counted).
    public var means: [Double] { sums.means }
}

/// An epoch just trained (passed to `TrainingCallbacks.epochEnded` and `.samplesDue`).
public struct EpochReport {
    public let epoch: Int, epochs: Int
    public let step: Int
    /// The epoch's mean step metrics (`stepColumns` order) and `TrainingJob.evaluate`'s values.
    public let means: [Double], eval: [Double]
    /// Samples per second and seconds of the epoch (before evaluation).
    public let samplesPerSecond: Double, seconds: Double
    /// Batches skipped as non-finite in this epoch.
    public let skipped: Int
    /// The job's one-line summary of `means` and `eval`.
    public let line: String
}

/// What `epochEnded` tells the loop: extra metrics.csv values (one per
/// `TrainingCallbacks.extraColumns`, NaN for none) and whether to stop after this epoch.
public struct EpochDecision {
    public var extraValues: [Double]
    public var stop: Bool

    public init(extraValues: [Double] = [], stop: Bool = false) {
        self.extraValues = extraValues
        self.stop = stop
    }
}

/// Hooks into `TrainingLoop.run`; every one is optional, and a loop with none trains silently.
/// The loop prints nothing and never exits the process: displays, pictures and signal
/// handling are supplied here (`gen train` plugs in its progress line, sample grids, signal
/// flag and FID evaluation).
public struct TrainingCallbacks {
    /// Extra metrics.csv columns filled by `epochEnded` (after the loop's own columns).
    public var extraColumns: [String] = []
    /// After every step (keep it cheap: it runs in the training loop).
    public var step: ((StepReport) -> Void)?
    /// A batch was skipped for a non-finite loss or gradient (`NonFinitePolicy.skip`).
    public var batchSkipped: ((NonFiniteError) -> Void)?
    /// After each epoch's evaluation, before its metrics row is written.
    public var epochEnded: ((EpochReport) throws -> EpochDecision)?
    /// When the epoch's sample pictures are due (every `sampleEvery` epochs, the last one,
    /// and an epoch after which `epochEnded` asked to stop), after its metrics row is written.
    public var samplesDue: ((EpochReport) throws -> Void)?
    /// Polled after every step: true saves a checkpoint and ends `run` with `.interrupted`.
    public var stopRequested: (() -> Bool)?

    public init() {}
}

/// What to do when a step's loss or gradient is not finite (the trainer applied no update).
public enum NonFinitePolicy: String, Sendable, CaseIterable {
    /// End the run with `NonFiniteStop` (the last checkpoint is kept).
    case stop
    /// Skip the batch, count it in metrics.csv `skipped`, and continue.
    case skip
}

/// How `TrainingLoop.run` ended.
public enum TrainingOutcome: Equatable {
    /// Every epoch up to `RunConfig.epochs` trained.
    case completed
    /// `epochEnded` asked to stop after `epoch`.
    case stoppedEarly(epoch: Int)
    /// `stopRequested` returned true: a checkpoint was written mid-epoch.
    case interrupted(Interruption)
    /// The run had already trained `RunConfig.epochs` epochs.
    case nothingToDo(epochsTrained: Int)
}

/// Where an interrupted run stopped.
public struct Interruption: Equatable, Sendable {
    public let epoch: Int
    /// Batches of `epoch` trained, and per epoch.
    public let batch: Int, batches: Int
    public let step: Int
    /// The checkpoint written at the stop.
    public let checkpoint: URL
}

/// A step with a non-finite loss or gradient under `NonFinitePolicy.stop`: `description` is the
/// trainer's message (step and location) and the last good checkpoint.
public struct NonFiniteStop: Error, CustomStringConvertible {
    public let error: NonFiniteError
    /// The newest checkpoint (nil when no epoch had finished).
    public let lastCheckpoint: URL?

    public var description: String {
        "\(error); stopped. Last good checkpoint: \(lastCheckpoint?.path ?? "none (no epoch finished)")"
    }
}
