import Datasets
import Linalg
import NN

/// One process's part of a data-parallel `TrainingLoop` (PyTorch's DistributedDataParallel,
/// Horovod): every process builds the same model from the same seed and draws the same
/// shuffle; each global batch is split into row shares (`RowShard`), one per process; the
/// trainers' allreduce hook sums the shares' gradients; and the step's metrics are reduced
/// here, so every process sees the global batch's means and the same stop decisions. Rank 0
/// alone writes files (the loop asks `isWriter`).
public struct DataParallel {
    let group: any ProcessGroup
    /// This process's rows of the current global batch (its buffers reused).
    private var local = Batch()
    /// [metric values..., skipped, stop]: reduced in one allreduce per step.
    private var reduced: [Double]

    init(group: any ProcessGroup, columns: Int) {
        self.group = group
        reduced = [Double](repeating: 0, count: columns + 2)
    }

    /// Rank 0 writes metrics, checkpoints and pictures.
    var isWriter: Bool { group.rank == 0 }

    /// Refuses batches some process would get no rows of: the global batch size, and the
    /// last, partial batch of an epoch, must have at least one row per process.
    static func check(batchSize: Int, samples: Int, processes n: Int) throws {
        if let p = problem(batchSize: batchSize, samples: samples, processes: n) { throw RunError(p) }
    }

    /// Why `check` refuses, phrased in terms of the batch size flag; nil when it does not.
    public static func problem(batchSize: Int, samples: Int, processes n: Int) -> String? {
        if batchSize < n {
            return "--batch-size \(batchSize) is smaller than the \(n) processes: each needs at least one row of every batch"
        }
        let last = samples % batchSize
        if last != 0 && last < n {
            return "the last batch of an epoch has \(last) of the \(samples) samples, fewer than the \(n) processes: use at most \(last) process\(last == 1 ? "" : "es"), or (a new run) a --batch-size that leaves none or at least \(n)"
        }
        return nil
    }

    /// Calls `body` with this process's rows of `global` (`Batch.shard` set); the rows are
    /// split as evenly as possible (`RowShard(rank:of:globalRows:)`). No allocation in steady state.
    mutating func withLocalBatch<R>(of global: Batch, _ body: (Batch) throws -> R) rethrows -> R {
        local.setShard(RowShard(rank: group.rank, of: group.size, globalRows: global.count), of: global)
        return try body(local)
    }

    /// Makes `values` (this process's means over its rows) the means over the global batch,
    /// each process's scaled by its share; returns `weight` (the global batch's, the same on
    /// every process), or nil when any process skipped the step (non-finite gradients are
    /// reduced, so all skip alike), and whether any process asked to stop. One allreduce; no
    /// allocation.
    /// - Precondition: follows `withLocalBatch` of this step (its share is this process's).
    mutating func reduce(_ values: inout [Double], weight: Int?, stop: Bool) throws -> (weight: Int?, stop: Bool) {
        let n = values.count
        let share = local.shard.map { Double($0.rows.count) / Double($0.globalRows) } ?? 1
        for i in 0..<n { reduced[i] = values[i] * share }
        reduced[n] = weight == nil ? 1 : 0
        reduced[n + 1] = stop ? 1 : 0
        try reduced.withUnsafeMutableBufferPointer { try group.allreduceSum($0) }
        for i in 0..<n { values[i] = reduced[i] }
        return (reduced[n] > 0 ? nil : weight, reduced[n + 1] > 0)
    }

    /// True on every process when `flag` is true on any (an epoch's stop decision, made by
    /// rank 0's callbacks).
    func any(_ flag: Bool) throws -> Bool {
        var v = [flag ? 1.0 : 0]
        try v.withUnsafeMutableBufferPointer { try group.allreduceSum($0) }
        return v[0] > 0
    }
}
