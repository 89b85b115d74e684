import Datasets
import Foundation
import Generative
import Linalg
import NN

/// What the epoch loop needs from a model's trainer: one step, its metrics, sample pictures
/// and checkpoint contents. One conformer per model kind (`GANJob`, `VAEJob`,
/// `ClassifierJob`); build them with `makeTrainingJob(config:data:)`.
public protocol TrainingJob: AnyObject {
    /// `gan`, `vae` or `classifier` (RunConfig.model, TrainingState.model).
    var kind: String { get }
    /// How data is scaled for this model: `.symmetric` ([-1, 1]) for the tanh generator,
    /// `.unit` ([0, 1]) for the Bernoulli decoder.
    var scaling: PixelScaling { get }
    /// Names of the per-step metrics `trainStep` writes (metrics.csv columns).
    var stepColumns: [String] { get }
    /// Names of the end-of-epoch evaluation metrics (`evaluate`).
    var evalColumns: [String] { get }
    /// Optimisation steps so far.
    var step: Int { get }
    /// Values per sample the model trains on (checked against the data by `TrainingLoop`), or
    /// nil when the model takes any width. Default: nil.
    var dataDim: Int? { get }

    /// How gemm uses the run's `threads` (set by the loop before training). Default: row-split,
    /// our own gemm and optimiser threads with no allocation per step (`gen bench`).
    func threading(threads: Int) -> GEMMThreading
    /// Called by the loop before each epoch's first step (also a resumed, partly trained one)
    /// with the 0-based epoch: where a learning-rate schedule advances. Default: nothing.
    func startEpoch(_ epoch: Int)
    /// One training step on `batch.x`; writes each metric of `stepColumns` into `values[i]`
    /// (NaN when this step has none) and returns the weight of these values in epoch means.
    /// - Throws: `NonFiniteError` when the loss or a gradient is not finite (no update applied).
    func trainStep(_ batch: Batch, values: inout [Double]) throws -> Int
    /// End-of-epoch metrics on the held-out data (empty when there is none).
    func evaluate(_ data: Dataset) -> [Double]
    /// The one-line epoch summary from the epoch's mean step metrics and `evaluate`'s values.
    func epochLine(means: [Double], eval: [Double]) -> String
    /// This epoch's sample pictures (from fixed noise, so epochs are comparable).
    func samples(_ data: Dataset) -> [SampleSheet]
    /// Tensors of each checkpoint file, by file stem.
    func checkpointFiles() -> [(stem: String, tensors: Checkpoint.Tensors)]
    /// PyTorch's shapes of the model files' tensors, by file stem and tensor name (a conv
    /// weight `[out, in, kh, kw]`, `num_batches_tracked` `[]`), so `load_state_dict` accepts
    /// them; a tensor not listed gets `[rows, cols]` (`[n]` for a `*.bias` row). Default: none.
    var checkpointShapes: [String: [String: [Int]]] { get }
    /// Training state (step, generators, optimiser steps) apart from the data order.
    func trainingState(epoch: Int, dataRNG: Xoshiro256, batchInEpoch: Int) -> TrainingState
    /// Restores weights, optimiser state and generators from a checkpoint directory.
    /// - Throws: `CheckpointError` naming the file.
    func restore(from dir: URL, state: TrainingState) throws
    /// The training-time sample-quality evaluator of this job's model against `reference`
    /// (FID and class coverage; a likelihood bound where the model has one), repeatable from
    /// `seed`; nil for a model that does not generate (default).
    func qualityEvaluator(reference: FIDReference, seed: UInt64) -> QualityEvaluator?
    /// True when each step weighs the same in the epoch means (`trainStep` returns 1: its
    /// values are already batch means), false when a step weighs its rows. Default: false.
    var weighsStepsEqually: Bool { get }
    /// Makes every trainer of the job reduce its gradients over `group` before each update
    /// (`GradientHook.allreduce`, first of its hooks), for a data-parallel run.
    /// - Throws: `RunError` for a job that cannot train data-parallel (default).
    func distribute(over group: any ProcessGroup) throws
}

extension TrainingJob {
    public func threading(threads: Int) -> GEMMThreading { .rowSplit(threads: threads) }
    public func startEpoch(_ epoch: Int) {}
    public func qualityEvaluator(reference: FIDReference, seed: UInt64) -> QualityEvaluator? { nil }
    public var weighsStepsEqually: Bool { false }
    public func distribute(over group: any ProcessGroup) throws {
        throw RunError("a \(kind) run cannot train data-parallel (gan and vae runs can)")
    }
}

extension TrainingJob {
    public var dataDim: Int? { nil }
}

/// A set of sample images to draw as one grid: rows of `images` are samples in `range`.
public struct SampleSheet {
    /// File-name prefix of the grid (`""` for samples, `"recon-"` for reconstructions).
    public let prefix: String
    /// One sample per row, values in `range`.
    public let images: Matrix
    public let range: ClosedRange<Float>
    /// Images per grid row (a class grid: its columns, one row per class).
    public let columns: Int

    public init(prefix: String, images: Matrix, range: ClosedRange<Float>, columns: Int = 8) {
        self.prefix = prefix
        self.images = images
        self.range = range
        self.columns = columns
    }
}

/// The job for `config.model`, built by that kind's factory (`GANJob.make`, `VAEJob.make`).
/// - Throws: `RunError` when the config names no model; the model's config errors.
public func makeTrainingJob(config: RunConfig, data: Dataset) throws -> any TrainingJob {
    if config.gan != nil { return try GANJob.make(config: config, data: data) }
    if config.vae != nil { return try VAEJob.make(config: config, data: data) }
    if config.classifier != nil { return try ClassifierJob.make(config: config, data: data) }
    throw RunError("config: names no model (\(config.model))")
}

/// Formats a Double for epoch lines: `digits` decimals, `nan` for NaN.
func fmt(_ x: Double, _ digits: Int = 4) -> String {
    x.isNaN ? "nan" : String(format: "%.\(digits)f", x)
}

extension TrainingJob {
    public var checkpointShapes: [String: [String: [Int]]] { [:] }
}
