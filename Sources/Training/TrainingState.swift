import Foundation

/// Training state saved beside the weights so a run can resume exactly where it stopped.
public struct TrainingState: Codable, Sendable, Equatable {
    /// `gan`, `vae` or `classifier`.
    public var model: String
    /// Completed epochs.
    public var epoch: Int
    /// Batches already trained in epoch `epoch + 1` (0 at an epoch boundary).
    public var batchInEpoch: Int
    /// Completed optimisation steps (trainer steps).
    public var step: Int
    /// State words of the trainer's noise generator (z or eps; a fixed valid state for the
    /// classifier, which draws none).
    public var noiseRNG: [UInt64]
    /// State words of the data-order (shuffling) generator at the start of epoch `epoch + 1`,
    /// before its shuffle: replaying the shuffle restores that epoch's order exactly.
    public var dataRNG: [UInt64]
    /// Step counts of the optimisers, by name (`generator`, `discriminator`, `vae`, `classifier`).
    public var optimizerSteps: [String: Int]
    /// The metric sums of the epoch in progress and of the current metrics.csv step window, so
    /// a resumed run logs the same means as an uninterrupted one. Nil in state.json files
    /// written before it existed (those resume with empty sums).
    public var running: RunningMetrics?
    /// Seconds of training before this checkpoint (metrics.csv `elapsed_s` continues from it);
    /// nil in older files.
    public var elapsedSeconds: Double?

    public init(model: String, epoch: Int, batchInEpoch: Int, step: Int, noiseRNG: [UInt64],
                dataRNG: [UInt64], optimizerSteps: [String: Int], running: RunningMetrics? = nil,
                elapsedSeconds: Double? = nil) {
        self.model = model
        self.epoch = epoch
        self.batchInEpoch = batchInEpoch
        self.step = step
        self.noiseRNG = noiseRNG
        self.dataRNG = dataRNG
        self.optimizerSteps = optimizerSteps
        self.running = running
        self.elapsedSeconds = elapsedSeconds
    }
}

extension TrainingState {
    /// The first impossible value, or nil: counts must be non-negative, each generator state 4
    /// words, not all zero (Xoshiro256's one invalid state), durations finite and non-negative,
    /// and the running sums consistent and finite.
    public var problem: String? {
        if epoch < 0 { return "epoch \(epoch) < 0" }
        if batchInEpoch < 0 { return "batchInEpoch \(batchInEpoch) < 0" }
        if step < 0 { return "step \(step) < 0" }
        for (name, words) in [("noiseRNG", noiseRNG), ("dataRNG", dataRNG)]
        where words.count != 4 || words.allSatisfy({ $0 == 0 }) {
            return "\(name) must be 4 words, not all zero, got \(words)"
        }
        if let (k, v) = optimizerSteps.first(where: { $0.value < 0 }) { return "optimizerSteps[\(k)] \(v) < 0" }
        if let e = elapsedSeconds, !(e >= 0 && e.isFinite) { return "elapsedSeconds \(e) is not a duration" }
        return running?.problem
    }
}
