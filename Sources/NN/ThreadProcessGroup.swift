#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Linalg
import Synchronization

/// Data parallelism inside one process: `size` threads, each a rank of the same
/// `ProcessGroup` protocol MPI ranks implement, each training a replica of the model on its
/// share of the batch with single-threaded gemm (the alternative to splitting every gemm's
/// rows over threads, `GEMMThreading.rowSplit`).
///
/// `allreduceSum` sums in place across the ranks' buffers through shared memory: after a
/// barrier, rank r adds up chunk r of every rank's buffer (in rank order, so every rank gets
/// the same bits) and writes the sum into chunk r of all of them; a second barrier ends it.
/// Each rank passes over 1/size of the values: no copy, no allocation.
///
/// Barriers spin, yielding after a while, and after 1 ms of waiting sleep in short naps: a rank
/// that waits that long is sharing its core with other work, and gives it back to the late
/// rank. (Napping sooner costs more than it saves: a nap lasts 50+ µs, and ranks normally
/// arrive within microseconds of each other.)
public final class ThreadProcessGroup: @unchecked Sendable {
    public let size: Int
    /// Each rank's buffer of the reduction under way (published before the first barrier).
    private let buffers: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Each rank's weight in a weighted reduction (published before the first barrier).
    private let weights: UnsafeMutablePointer<Float>
    /// Per rank: whether its chunk of a weighted reduction held a non-finite sum. Written
    /// between the two barriers, read after the second: a rank writes the next reduction's
    /// flag only after that reduction's first barrier, which every rank reaches only after
    /// it has read this one's flags.
    private let nonFiniteFlags: UnsafeMutablePointer<UInt32>
    private let arrived = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)
    /// Shared updates (`Optimizer.shareUpdates(over:)`): the replicas' tables of each shared
    /// optimiser, in registration order, and how many each rank has registered.
    private let registry: Mutex<(tables: [[ReplicaTable]], registered: [Int])>

    /// - Precondition: `size >= 1`.
    public init(size: Int) {
        precondition(size >= 1, "ThreadProcessGroup: size \(size)")
        self.size = size
        buffers = .allocate(capacity: size)
        buffers.initialize(repeating: nil, count: size)
        weights = .allocate(capacity: size)
        weights.initialize(repeating: 1, count: size)
        nonFiniteFlags = .allocate(capacity: size)
        nonFiniteFlags.initialize(repeating: 0, count: size)
        registry = Mutex(([], [Int](repeating: 0, count: size)))
    }

    deinit {
        buffers.deallocate()
        weights.deallocate()
        nonFiniteFlags.deallocate()
    }

    /// Rank `rank`'s view of the group, to be used by one thread.
    public func member(_ rank: Int) -> any ProcessGroup {
        precondition(rank >= 0 && rank < size, "ThreadProcessGroup: rank \(rank) of \(size)")
        return Member(group: self, rank: rank)
    }

    /// Returns once all `size` ranks have called it (a sense-reversing barrier: the last to
    /// arrive resets the count and advances the generation the others wait on).
    func barrier() {
        let gen = generation.load(ordering: .acquiring)
        if arrived.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == size {
            arrived.store(0, ordering: .relaxed)
            generation.wrappingAdd(1, ordering: .releasing)
            return
        }
        var spins = 0
        var since: UInt64 = 0
        while generation.load(ordering: .acquiring) == gen {
            spins += 1
            guard spins > 1_000 else { continue }
            sched_yield()
            guard spins % 64 == 0 else { continue }
            let now = DispatchTime.now().uptimeNanoseconds
            if since == 0 { since = now } else if now - since > 1_000_000 { usleep(50) }
        }
    }

    func allreduce<T: BinaryFloatingPoint>(_ buffer: UnsafeMutableBufferPointer<T>, rank: Int) {
        guard size > 1 else { return }
        buffers[rank] = UnsafeMutableRawPointer(buffer.baseAddress)
        barrier()
        let chunk = RowShard(rank: rank, of: size, globalRows: buffer.count).rows
        _ = sumInRankOrder(T.self, first: chunk.lowerBound, count: chunk.count, weighted: false)
        barrier()
    }

    /// `GradientHook.allreduce`'s reduction in one pass over each rank's chunk: every rank's
    /// buffer becomes `sum over ranks k (in rank order) of weights[k] * buffer_k`, the same bits
    /// as scaling each buffer by its weight and then `allreduce` for every non-NaN result (the
    /// products are rounded before they are added, as there; which NaN payload survives may
    /// differ). One difference: a rank with weight 0 (an empty share) and a NaN or inf
    /// gradient makes the sum NaN, where OpenBLAS 0.3.21's `sscal` by 0 wrote zeros — every
    /// rank then stops alike. Returns whether every summed value is finite (each rank checks
    /// the chunk it sums; the flags are exchanged at the second barrier), which saves the
    /// scale pass and the non-finite check's pass over the whole buffer.
    func weightedAllreduce(_ buffer: UnsafeMutableBufferPointer<Float>, weight: Float, rank: Int) -> Bool {
        guard size > 1 else {
            if weight != 1 { for i in buffer.indices { buffer[i] *= weight } }
            return allFinite(UnsafeBufferPointer(buffer))
        }
        buffers[rank] = UnsafeMutableRawPointer(buffer.baseAddress)
        weights[rank] = weight
        barrier()
        let chunk = RowShard(rank: rank, of: size, globalRows: buffer.count).rows
        if size == 2 {
            nonFiniteFlags[rank] = sumPair(first: chunk.lowerBound, count: chunk.count)
        } else {
            let sum = sumInRankOrder(Float.self, first: chunk.lowerBound, count: chunk.count, weighted: true)
            nonFiniteFlags[rank] = allFinite(UnsafeBufferPointer(start: sum, count: chunk.count)) ? 0 : 1
        }
        barrier()
        var bad: UInt32 = 0
        for k in 0..<size { bad |= nonFiniteFlags[k] }
        return bad == 0
    }

    /// Two ranks (the usual case): `w0 * b0 + w1 * b1` written to both buffers, and the
    /// non-finite flag, in one pass. Returns 1 when a sum is NaN or inf.
    private func sumPair(first: Int, count: Int) -> UInt32 {
        let a = buffers[0]!.assumingMemoryBound(to: Float.self) + first
        let b = buffers[1]!.assumingMemoryBound(to: Float.self) + first
        let w0 = weights[0], w1 = weights[1]
        var bad: UInt32 = 0
        for i in 0..<count {
            let s = w0 * a[i] + w1 * b[i]
            a[i] = s
            b[i] = s
            bad |= nonFiniteBit(s)
        }
        return bad
    }

    /// Chunk `first..<first + count` of every rank's buffer becomes the sum over ranks in rank
    /// order, `((b0 + b1) + b2) + ...`, or with `weighted` `((w0 b0 + w1 b1) + w2 b2) + ...`:
    /// summed into rank 0's buffer (one pass per rank), then copied to the others' (same bits
    /// on every rank). Returns the summed chunk (in rank 0's buffer).
    private func sumInRankOrder<T: BinaryFloatingPoint>(_: T.Type, first: Int, count: Int,
                                                        weighted: Bool) -> UnsafeMutablePointer<T> {
        let sum = buffers[0]!.assumingMemoryBound(to: T.self) + first
        guard count > 0 else { return sum }
        if weighted {
            let w0 = T(weights[0])
            for i in 0..<count { sum[i] = w0 * sum[i] }
        }
        for k in 1..<size {
            let other = buffers[k]!.assumingMemoryBound(to: T.self) + first
            if weighted {
                let w = T(weights[k])
                for i in 0..<count { sum[i] += w * other[i] }
            } else {
                for i in 0..<count { sum[i] += other[i] }
            }
        }
        for k in 1..<size { (buffers[k]!.assumingMemoryBound(to: T.self) + first).update(from: sum, count: count) }
        return sum
    }

    /// The tables of rank `rank`'s next shared optimiser, the same array for the optimiser the
    /// other ranks register at the same position (optimisers are paired by order).
    func sharedUpdateTables(parameters: Int, elements: Int, packed shapes: [(rows: Int, cols: Int)?],
                            rank: Int) -> [ReplicaTable] {
        registry.withLock { r in
            let index = r.registered[rank]
            r.registered[rank] += 1
            if index == r.tables.count {
                // One set of panels per packed weight, filled by all ranks' shared updates.
                let panels = shapes.map { $0.map { PackedPanels(rows: $0.rows, cols: $0.cols) } }
                r.tables.append((0..<size).map { _ in
                    ReplicaTable(parameters: parameters, elements: elements, packed: panels)
                })
            }
            let first = r.tables[index][0]
            precondition(first.parameterCount == parameters && first.elementCount == elements,
                         "shareUpdates: rank \(rank)'s optimiser \(index) has \(parameters) tensors of \(elements) values, another rank's \(first.parameterCount) of \(first.elementCount)")
            return r.tables[index]
        }
    }

    /// One rank's view of the group (`member(_:)`), used by that rank's thread alone.
    final class Member: ProcessGroup {
        let group: ThreadProcessGroup
        let rank: Int
        var size: Int { group.size }
        var isInProcess: Bool { true }

        init(group: ThreadProcessGroup, rank: Int) {
            self.group = group
            self.rank = rank
        }

        func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws { group.allreduce(buffer, rank: rank) }
        func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws { group.allreduce(buffer, rank: rank) }
        func barrier() throws { group.barrier() }
    }
}
