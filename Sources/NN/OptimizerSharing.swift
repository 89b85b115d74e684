import Linalg
import Synchronization

extension Optimizer {
    /// Shares this optimiser's update among the replicas of in-process data parallelism
    /// (`ThreadProcessGroup`), as ZeRO stage 1 shards optimiser state across processes
    /// (Rajbhandari et al. 2020, "ZeRO: Memory optimizations toward training trillion parameter
    /// models", section 5.1): with the gradients already summed on every replica (the allreduce
    /// hook), rank r updates only its part of the parameters — the r-th of `size` contiguous
    /// parts of the parameters concatenated in `parameters` order, of equal cost
    /// (`UpdateSharing.costSplit`: an element packed after its update counts 1.5) — and
    /// writes it into the other replicas' copies, or, for a packed weight under an optimiser
    /// that updates in panels, into the panels all replicas share (below). Each replica does
    /// about 1/size of the update's memory traffic (Adam reads and writes four values per
    /// parameter) instead of all of it; the parameters stay bit-identical on every replica
    /// and equal to an unshared update's (the update is element-wise).
    ///
    /// Every rank must call this on its optimisers in the same order (they are paired by
    /// order), before its first `step()`. Does nothing for other process groups (MPI ranks keep
    /// whole updates) or a group of one.
    ///
    /// From then on `step()` is a collective operation (two barriers): every rank must call it
    /// the same number of times, in the same order as the group's other collectives — as the
    /// trainers do, whose hooks decide alike on every rank after the allreduce. A rank that
    /// skips an update the others make corrupts the run.
    ///
    /// A replica's own slots hold current state only in its part; `stateTensors()` gathers the
    /// others' parts, so rank 0 writes complete checkpoints. `loadState` loads every part.
    ///
    /// With an optimiser that updates in panels (Adam on AVX-512 CPUs), each packed weight (a
    /// Dense layer's) is kept only in panels shared by the replicas, which their products read:
    /// its `Parameter.value` is copied back from them when next read or written (on the
    /// replica's own thread, between steps), and a write of it is packed again at the next
    /// update.
    public func shareUpdates(over group: any ProcessGroup) {
        guard let member = group as? ThreadProcessGroup.Member, member.group.size > 1 else { return }
        precondition(sharing == nil, "Optimizer.shareUpdates: already shared")
        sharing = UpdateSharing(optimizer: self, group: member.group, rank: member.rank)
    }
}

/// One replica's side of a shared update (`Optimizer.shareUpdates(over:)`).
final class UpdateSharing {
    let group: ThreadProcessGroup
    let rank: Int
    /// The replicas' tables, in rank order (this one's at `rank`).
    private let tables: [ReplicaTable]
    private let mine: ReplicaTable
    /// Each rank's elements of the concatenation (`costSplit`), in rank order.
    private let owned: [Range<Int>]

    init(optimizer: Optimizer, group: ThreadProcessGroup, rank: Int) {
        self.group = group
        self.rank = rank
        // Scalar parameters of the optimiser, all tensors concatenated (what the ranks split).
        let elements = optimizer.parameters.reduce(0) { $0 + $1.value.count }
        let shapes = optimizer.parameters.map { p in p.packing.map { _ in (rows: p.value.rows, cols: p.value.cols) } }
        tables = group.sharedUpdateTables(parameters: optimizer.parameters.count, elements: elements,
                                          packed: shapes, rank: rank)
        // A weight kept in panels costs its update alone (`keepsInPanels`).
        let packCost = optimizer.updatesInPanels ? 2 : 3
        owned = Self.costSplit(counts: optimizer.parameters.map(\.value.count),
                               costs: shapes.map { $0 == nil ? 2 : packCost }, size: group.size)
        mine = tables[rank]
        precondition(optimizer.slots.count <= ReplicaTable.maximumSlots, "shareUpdates: \(optimizer.slots.count) state slots")
        // Kept alive by the table: rank 0 may gather them after this optimiser is gone.
        mine.slotStorage = optimizer.slots
        for (s, slot) in optimizer.slots.enumerated() {
            mine.slots[s] = slot.withUnsafeBufferPointer { UnsafeMutablePointer(mutating: $0.baseAddress!) }
        }
    }

    /// The part of parameter `k` (elements `offset..<offset + count` of the concatenation)
    /// that rank `r` updates, as a range of the parameter's own elements.
    private func part(of r: Int, offset: Int, count: Int) -> Range<Int> {
        let lo = Swift.max(owned[r].lowerBound, offset), hi = Swift.min(owned[r].upperBound, offset + count)
        return lo < hi ? (lo - offset)..<(hi - offset) : 0..<0
    }

    /// Contiguous parts of the concatenation of parameters of `counts` elements, one per rank
    /// in order, that split the update's cost evenly: an element of parameter `k` costs
    /// `costs[k]` (relative units), a part ends where the running cost reaches `r/size` of the
    /// total (rounded up to a whole element).
    ///
    /// Why not equal counts: an element of a packed weight costs its pack on top of the update
    /// (large GAN on an Intel Xeon model 207: Adam 5.1 % of the step's samples, the pack
    /// 2.1–2.7 %, so 3 against 2). Parts that cost unequal work leave one rank waiting at the
    /// barrier (before packing into one form only, the VAE's split by count showed 3 % of its
    /// samples in `__schedule`). A weight kept in panels is not packed: with such an optimiser
    /// every element costs 2 (`UpdateSharing.init`), a split by count.
    static func costSplit(counts: [Int], costs: [Int], size: Int) -> [Range<Int>] {
        let total = zip(counts, costs).reduce(0) { $0 + $1.0 * $1.1 }
        let elements = counts.reduce(0, +)
        var bounds = [0]
        for r in 1..<Swift.max(1, size) {
            let target = r * total / size
            var cost = 0, offset = 0, bound = elements
            for (count, unit) in zip(counts, costs) {
                if cost + count * unit >= target {
                    bound = offset + Swift.min(count, (target - cost + unit - 1) / Swift.max(1, unit))
                    break
                }
                cost += count * unit
                offset += count
            }
            bounds.append(Swift.max(bounds.last!, bound))
        }
        bounds.append(elements)
        return (0..<Swift.max(1, size)).map { bounds[$0]..<bounds[$0 + 1] }
    }

    /// The update of `optimizer` (its `stepCount` advanced and `prepareStep()` run): every
    /// replica publishes where its parameters live, a barrier, each rank updates its part of
    /// every non-frozen parameter, a barrier.
    ///
    /// A packed weight, when the optimiser can (`updatesInPanels`, Adam on AVX-512 CPUs), is
    /// kept only in the shared panels every replica's products read: each rank updates its part
    /// there in place, and nothing is packed or copied. The replicas' row-major values then go
    /// stale until read (`Parameter.value` copies them back, `synchronizeValue()`); a write of
    /// them makes the next update pack them again (`PackedWeight.holds`). Large GAN on an Intel
    /// model 207 (README, Performance): the pack and the push were ~8 % of its step.
    ///
    /// Any other parameter is updated row-major; its owner packs its part (a packed weight) and
    /// writes it into the other replicas' copies (push). Why the owner writes rather than every
    /// replica reading the others' parts (pull): a part read by another core is shared with
    /// that core's cache, so the owner's next update must invalidate it line by line. When the
    /// host puts the two cores on different dies (a cross-core round trip of ~330 ns instead of
    /// ~65 ns on the Zen 4 hosts measured), that made Adam's update a quarter of the VAE's
    /// batch-split step. Pushed, a replica's parts stay in its owner's cache from one step to
    /// the next, and nothing reads them but the owner.
    func step(_ optimizer: Optimizer) {
        for (k, p) in optimizer.parameters.enumerated() where !p.isFrozen && !keepsInPanels(k, optimizer) {
            // Taken mutably (a unique storage that stays put until the last barrier).
            p.value.withUnsafeMutableBufferPointer { mine.values[k] = $0.baseAddress! }
        }
        group.barrier()
        for (k, p) in optimizer.parameters.enumerated() where !p.isFrozen {
            let offset = optimizer.slotOffsets[k]
            let own = part(of: rank, offset: offset, count: p.storedValue.count)
            if keepsInPanels(k, optimizer) {
                updateInPanels(optimizer, parameter: k, elements: own)
                continue
            }
            guard !own.isEmpty else { continue }
            p.gradient.withUnsafeBufferPointer { g in
                p.value.withUnsafeMutableBufferPointer { x in
                    optimizer.update(parameter: k, value: UnsafeMutableBufferPointer(rebasing: x[own]),
                                     gradient: UnsafeBufferPointer(rebasing: g[own]),
                                     state: mine.statePointers(k, slotOffset: offset + own.lowerBound,
                                                               slots: optimizer.slots.count))
                    // The part just written is in cache: pack it for every replica's products.
                    mine.packed[k]?.pack(UnsafePointer(x.baseAddress!), elements: own)
                    push(x.baseAddress! + own.lowerBound, count: own.count, at: own.lowerBound, parameter: k)
                }
            }
        }
        group.barrier()
        for (k, p) in optimizer.parameters.enumerated() where !p.isFrozen {
            // No rank reads the tables again before the next step's first barrier.
            mine.values[k] = nil
            // Every rank packed or updated its part before the last barrier: these panels are
            // whole (storedValue: reading `value` would copy a kept weight back).
            if let panels = mine.packed[k], p.packing != nil { p.packing!.packed(by: panels, for: p.storedValue) }
        }
    }

    /// Whether parameter `k` is kept only in the shared panels (the same answer on every rank).
    private func keepsInPanels(_ k: Int, _ optimizer: Optimizer) -> Bool {
        mine.packed[k] != nil && optimizer.parameters[k].packing != nil && optimizer.updatesInPanels
    }

    /// This rank's part (`own`) of parameter `k`'s update, in the shared panels. Packs the part
    /// first when the panels do not hold the current values (the first update, or after a write
    /// of `value`); every rank marks the row-major values stale, its part empty or not.
    private func updateInPanels(_ optimizer: Optimizer, parameter k: Int, elements own: Range<Int>) {
        let p = optimizer.parameters[k], panels = mine.packed[k]!
        p.prepareToUpdate(in: panels, part: own)
        if !own.isEmpty {
            p.gradient.withUnsafeBufferPointer { g in
                optimizer.update(parameter: k, inPanels: panels, elements: own, gradient: g.baseAddress!,
                                 state: mine.statePointers(k, slotOffset: optimizer.slotOffsets[k],
                                                           slots: optimizer.slots.count))
            }
        }
        p.valueLivesIn = panels
    }

    /// Writes `count` updated values of parameter `k`, from element `first`, into every other
    /// replica's copy.
    private func push(_ source: UnsafeMutablePointer<Float>, count: Int, at first: Int, parameter k: Int) {
        for r in 0..<group.size where r != rank {
            guard let target = tables[r].values[k] else {
                preconditionFailure("shareUpdates: rank \(r) did not update parameter \(k) (its optimiser steps differ from rank \(rank)'s)")
            }
            (target + first).update(from: source, count: count)
        }
    }

    /// Copies the other ranks' parts of every state slot into `optimizer`'s slots (whose own
    /// copies of those parts are stale). Their owners write them only inside `step`, which
    /// cannot start while this rank is between steps (it waits in the allreduce for this one).
    func gatherState(into optimizer: Optimizer) {
        for s in optimizer.slots.indices {
            for r in 0..<group.size where r != rank {
                let theirs = owned[r]
                guard !theirs.isEmpty, let source = tables[r].slots[s], let target = mine.slots[s] else { continue }
                (target + theirs.lowerBound).update(from: source + theirs.lowerBound, count: theirs.count)
            }
        }
    }
}

/// What one replica publishes to the others for a shared update: the base address of each
/// parameter's values (refreshed every step) and of each state slot buffer (fixed).
final class ReplicaTable: @unchecked Sendable {
    let values: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    let slots: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    /// The slot buffers `slots` points into, retained (a shared buffer never moves).
    var slotStorage: [Matrix] = []
    let parameterCount: Int
    /// Scalar parameters of the optimiser (all tensors together), to check the pairing.
    let elementCount: Int
    /// Per parameter, the panels every rank packs or updates its part of the update in (the
    /// same objects in every rank's table), or nil for a parameter that is not packed.
    let packed: [PackedPanels?]
    /// Reused by `statePointers` (an optimiser takes its state as an array).
    private var state: [UnsafeMutablePointer<Float>] = []

    init(parameters: Int, elements: Int, packed: [PackedPanels?]) {
        parameterCount = parameters
        elementCount = elements
        self.packed = packed
        values = .allocate(capacity: Swift.max(1, parameters))
        values.initialize(repeating: nil, count: Swift.max(1, parameters))
        slots = .allocate(capacity: ReplicaTable.maximumSlots)
        slots.initialize(repeating: nil, count: ReplicaTable.maximumSlots)
    }

    deinit {
        values.deallocate()
        slots.deallocate()
    }

    /// Slot buffers an optimiser may have (Adam has 2).
    static let maximumSlots = 8

    /// Pointers into every slot at `slotOffset`, in an array kept between calls (no allocation
    /// once it has `slots` elements).
    func statePointers(_ k: Int, slotOffset: Int, slots count: Int) -> [UnsafeMutablePointer<Float>] {
        if state.count != count { state = (0..<count).map { slots[$0]! } }
        for s in 0..<count { state[s] = slots[s]! + slotOffset }
        return state
    }
}
