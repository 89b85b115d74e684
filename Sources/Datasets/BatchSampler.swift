import Linalg

/// Epoch-wise shuffled mini-batches by index, driven by an explicit generator.
///
/// Each epoch visits every index in `0..<count` exactly once. With `dropLast == false` (the
/// default, like PyTorch's `DataLoader(drop_last=False)`) the last batch holds the remaining
/// `count % batchSize` samples when that is non-zero; with `dropLast == true` those samples are
/// skipped for this epoch (they are in a random position, so each epoch drops different ones).
///
/// `startEpoch` resets the order to `0, 1, ..., count-1` and shuffles it (Fisher-Yates), so an
/// epoch's order depends only on the generator's state: same seed, same orders. The order
/// array is reused: no allocation after construction, provided the caller does not keep a copy
/// of `order` or a `batchIndices` slice across `startEpoch` (that would force a copy-on-write).
public struct BatchSampler: Sendable {
    /// Number of samples in the dataset.
    public let count: Int
    /// Samples per batch (the last batch may be smaller unless `dropLast`).
    public let batchSize: Int
    public let dropLast: Bool
    /// When false, every epoch uses the order `0..<count`.
    public let shuffle: Bool
    private var indices: [Int]

    /// - Precondition: `count >= 0`, `batchSize > 0`.
    public init(count: Int, batchSize: Int, dropLast: Bool = false, shuffle: Bool = true) {
        precondition(count >= 0 && batchSize > 0, "BatchSampler: count \(count), batchSize \(batchSize)")
        self.count = count
        self.batchSize = batchSize
        self.dropLast = dropLast
        self.shuffle = shuffle
        indices = Array(0..<count)
    }

    /// Batches per epoch: `count / batchSize` rounded up, or down when `dropLast`. (Not
    /// `(count + batchSize - 1) / batchSize`, which overflows for a batch size near `Int.max`.)
    public var batchesPerEpoch: Int {
        count / batchSize + (dropLast || count % batchSize == 0 ? 0 : 1)
    }

    /// Starts an epoch: a new uniformly random order (Fisher-Yates through `rng.shuffle`) when
    /// `shuffle`, else the identity order. In place; no allocation.
    public mutating func startEpoch(rng: inout Xoshiro256) {
        indices.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = i }
        }
        if shuffle { rng.shuffle(&indices) }
    }

    /// Indices into the dataset of batch `b` of the current epoch (a view into `order`).
    /// - Precondition: `0 <= b < batchesPerEpoch`.
    public func batchIndices(_ b: Int) -> ArraySlice<Int> {
        precondition(b >= 0 && b < batchesPerEpoch, "BatchSampler: batch \(b) out of 0..<\(batchesPerEpoch)")
        let start = b * batchSize
        return indices[start..<(start + min(batchSize, count - start))]
    }

    /// The current epoch's order (for checkpoints and resuming mid-epoch).
    public var order: [Int] { indices }

    /// Restores an order saved from `order`.
    /// - Throws: `DatasetError` (path `"<order>"`) unless `order` is a permutation of `0..<count`.
    public mutating func setOrder(_ order: [Int]) throws {
        guard order.count == count else {
            throw DatasetError(path: "<order>", problem: "\(order.count) indices, expected \(count)")
        }
        var seen = [Bool](repeating: false, count: count)
        for (k, i) in order.enumerated() {
            guard i >= 0 && i < count && !seen[i] else {
                throw DatasetError(path: "<order>", problem:
                    "not a permutation of 0..<\(count): element \(k) is \(i)\(i >= 0 && i < count ? " (repeated)" : " (out of range)")")
            }
            seen[i] = true
        }
        indices = order
    }
}
