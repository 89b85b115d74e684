import Linalg

/// One mini-batch: `x` is `rows x sampleSize` (one sample per row, scaled as the loader's
/// `PixelScaling`), `labels` the class of each row when the data has labels.
public struct Batch: Sendable {
    public var x: Matrix
    /// One label per row of `x` (same order), or nil for unlabelled data.
    public var labels: [Int32]?
    /// In a data-parallel run, which rows of the global batch these are (nil: all of them).
    public var shard: RowShard?

    /// An empty batch to pass to `DataLoader.next(into:)`, which sizes it.
    public init() {
        x = .empty
        labels = nil
        shard = nil
    }

    /// Makes this batch the rows `shard.rows` of `global` (copied; no allocation once its
    /// buffers are large enough), for one process of a data-parallel run.
    public mutating func setShard(_ shard: RowShard, of global: Batch) {
        let r = shard.rows, cols = global.x.cols
        x.resize(rows: r.count, cols: cols)
        global.x.withUnsafeBufferPointer { src in
            x.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                d.update(from: s + r.lowerBound * cols, count: r.count * cols)
            }
        }
        if let all = global.labels {
            if labels == nil { labels = [] }
            labels!.removeAll(keepingCapacity: true)
            labels!.append(contentsOf: all[r])
        } else {
            labels = nil
        }
        self.shard = shard
    }

    /// Samples in the batch.
    public var count: Int { x.rows }
}

/// Shuffled mini-batches of a `Dataset.Storage`, like PyTorch's `DataLoader(shuffle=True,
/// drop_last=False)`: each epoch visits every sample once in an order drawn from the generator
/// passed to `startEpoch`, and the last batch keeps the `count % batchSize` remaining samples.
///
/// The order is a `BatchSampler`'s (Fisher-Yates through `Xoshiro256.shuffle`), so the same
/// generator state gives the same epoch. `startEpoch(rng:atBatch:)` replays an epoch's shuffle
/// and skips its first `k` batches, which is how a run resumes mid-epoch. `next(into:)` reuses
/// the batch's storage: no allocation in steady state (the labels array keeps its capacity).
public struct DataLoader: Sendable {
    public let storage: Dataset.Storage
    public let scaling: PixelScaling
    private var sampler: BatchSampler
    /// Batches of the current epoch already returned by `next` (or skipped by `startEpoch`).
    public private(set) var position = 0

    /// - Precondition: `batchSize > 0`.
    public init(_ storage: Dataset.Storage, batchSize: Int, scaling: PixelScaling, shuffle: Bool = true) {
        self.storage = storage
        self.scaling = scaling
        sampler = BatchSampler(count: storage.count, batchSize: batchSize, shuffle: shuffle)
    }

    /// Samples per batch (the last batch of an epoch may be smaller).
    public var batchSize: Int { sampler.batchSize }
    /// Batches per epoch: `count / batchSize` rounded up.
    public var batchesPerEpoch: Int { sampler.batchesPerEpoch }

    /// Starts an epoch: shuffles with `rng` (advancing it by one shuffle) and positions the
    /// loader at batch `k`, so the next `next` returns batch `k` of this epoch's order.
    /// - Precondition: `0 <= k <= batchesPerEpoch` (callers check saved values first).
    public mutating func startEpoch(rng: inout Xoshiro256, atBatch k: Int = 0) {
        precondition(k >= 0 && k <= batchesPerEpoch, "DataLoader: batch \(k) of \(batchesPerEpoch)")
        sampler.startEpoch(rng: &rng)
        position = k
    }

    /// Fills `batch` with the next batch of the epoch and returns true, or returns false (and
    /// leaves `batch` as it was) when the epoch is over.
    public mutating func next(into batch: inout Batch) -> Bool {
        guard position < batchesPerEpoch else { return false }
        let indices = sampler.batchIndices(position)
        storage.gather(indices, scaling: scaling, into: &batch.x)
        if storage.hasLabels {
            if batch.labels == nil { batch.labels = [] }
            batch.labels!.removeAll(keepingCapacity: true)
            for i in indices { batch.labels!.append(storage.label(i)) }
        } else {
            batch.labels = nil
        }
        position += 1
        return true
    }
}
