import Datasets
import Foundation
import Generative
import Linalg
import Training

/// What the epoch loop needs from a model's trainer: one step, its metrics, samples and
/// checkpoint contents. One conformer per model (GANJob, VAEJob).
protocol TrainingJob: AnyObject {
    /// `gan` or `vae`.
    var kind: String { get }
    /// How data bytes are scaled for this model ([-1, 1] for the tanh generator, [0, 1] for
    /// the Bernoulli decoder).
    var scaling: PixelScaling { get }
    /// Names of the per-step metrics `trainStep` adds into its `sums` (metrics.csv columns).
    var stepColumns: [String] { get }
    /// Names of the end-of-epoch evaluation metrics (`evaluate`).
    var evalColumns: [String] { get }
    /// Optimisation steps so far.
    var step: Int { get }

    /// One training step on `batch`; writes each metric of `stepColumns` into `values[i]` (NaN
    /// when this step has none) and returns the weight of these values in epoch means.
    func trainStep(_ batch: Matrix, values: inout [Double]) throws -> Int
    /// End-of-epoch metrics on held-out data (empty when there is none).
    func evaluate(_ data: TrainingData) -> [Double]
    /// The one-line epoch summary from the epoch's mean step metrics and `evaluate`'s values.
    func epochLine(means: [Double], eval: [Double]) -> String
    /// Writes this epoch's sample grid(s) into `dir`.
    func writeSamples(to dir: URL, tag: String, data: TrainingData) throws
    /// Tensors of each checkpoint file, by file stem.
    func checkpointFiles() -> [(stem: String, tensors: Checkpoint.Tensors)]
    /// Training state (step, generators, optimiser steps) apart from the data order.
    func trainingState(epoch: Int, dataRNG: Xoshiro256, batchInEpoch: Int) -> TrainingState
    /// Restores weights, optimiser state and generators from a checkpoint directory.
    func restore(from dir: URL, state: TrainingState) throws
}

/// Formats a Double for the epoch line and metrics.csv.
func fmt(_ x: Double, _ digits: Int = 4) -> String {
    x.isNaN ? "nan" : String(format: "%.\(digits)f", x)
}
