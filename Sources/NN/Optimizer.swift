import Foundation
import Linalg

/// The base of every first-order optimiser: the parameters, the learning rate (optionally
/// driven by a schedule), the step count and named state slots; a subclass writes only its
/// update rule (`update(parameter:value:gradient:state:)`) and, if it needs per-step scalars,
/// `prepareStep()`.
///
/// State slot `s` of parameter `k` is saved as `<stateName>.<slot>.<k>` (e.g. `adam.m.3`), shaped
/// like the parameter. Slots live in one contiguous buffer per slot name, allocated in `init`:
/// `step()` performs no heap allocation. Gradients are not cleared by `step()`: call
/// `zeroGradients()` (as with PyTorch's `optimizer.zero_grad()`).
open class Optimizer {
    /// The parameters updated, in order (state tensor `k` belongs to `parameters[k]`).
    public let parameters: [Parameter]
    /// The step size used by the next `step()`.
    public var learningRate: Float
    /// The learning rate given at construction, which a `schedule` scales.
    public let baseLearningRate: Float
    /// When set, `startEpoch(_:)` sets `learningRate` from it.
    public var schedule: (any LearningRateSchedule)?
    /// Number of `step()` calls so far (restored by `loadState`).
    public private(set) var stepCount: Int = 0
    /// Prefix of the state tensors' names (`adam`).
    public let stateName: String
    /// Names of the per-parameter state slots (`m`, `v`).
    public let slotNames: [String]
    /// One shared buffer per slot; `slotPointers[k][s]` points at parameter k's part of slot s.
    var slots: [Matrix]
    /// Offset of each parameter's part in every slot buffer (the parameters concatenated).
    private(set) var slotOffsets: [Int] = []
    private(set) var slotPointers: [[UnsafeMutablePointer<Float>]] = []
    /// Set by `shareUpdates(over:)`: this replica updates only its part of the parameters.
    var sharing: UpdateSharing?

    /// - Parameters:
    ///   - stateName: prefix of the saved state (`adam`); slotNames: one zero buffer per name is
    ///     kept for every parameter.
    public init(parameters: [Parameter], learningRate: Float, stateName: String, slotNames: [String]) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.baseLearningRate = learningRate
        self.stateName = stateName
        self.slotNames = slotNames
        let total = parameters.reduce(0) { $0 + $1.value.count }
        slots = slotNames.map { _ in Matrix.sharedBuffer(count: total) }
        var offset = 0
        for p in parameters {
            slotOffsets.append(offset)
            offset += p.value.count
        }
        // Shared buffers never move or copy: the pointers stay valid as long as `slots` lives.
        slotPointers = slotOffsets.map { o in
            slots.indices.map { s in slots[s].withUnsafeMutableBufferPointer { $0.baseAddress! + o } }
        }
    }

    /// Per-step scalars (bias corrections); called once by `step()` after `stepCount` has
    /// advanced, before any update. Default: nothing.
    open func prepareStep() {}

    /// Updates one parameter in place. `state[s]` points at its part of slot `slotNames[s]`
    /// (`value.count` elements). Must not allocate.
    open func update(parameter index: Int, value: UnsafeMutableBufferPointer<Float>,
                     gradient: UnsafeBufferPointer<Float>, state: [UnsafeMutablePointer<Float>]) {
        preconditionFailure("\(type(of: self)) must override update(parameter:value:gradient:state:)")
    }

    /// Whether `update(parameter:inPanels:elements:gradient:state:)` is implemented: each
    /// packed weight is then kept only in panels, its own (`updateKeptInPanels`) or, under a
    /// shared update, the replicas' (`UpdateSharing`). Default false.
    var updatesInPanels: Bool { false }

    /// The update of elements `elements` (row-major indices) of parameter `index`, a weight
    /// whose values live only in `panels` (its own, or a shared update's); `gradient` and
    /// `state[s]` point at the parameter's element 0. Only called when `updatesInPanels`.
    func update(parameter index: Int, inPanels panels: PackedPanels, elements: Range<Int>,
                gradient: UnsafePointer<Float>, state: [UnsafeMutablePointer<Float>]) {
        preconditionFailure("\(type(of: self)) does not update in panels")
    }

    /// One update of every non-frozen parameter; no heap allocation (after the first step when
    /// the update is shared, `shareUpdates(over:)`, or the first one that packs a weight).
    ///
    /// The update runs with denormals flushed to zero (`withDenormalsFlushed`, on every thread
    /// that takes part): a moment or value below `Float.leastNormalMagnitude` becomes 0, as in
    /// TensorFlow's CPU threads; on Intel CPUs a denormal costs a microcode assist per
    /// operation, and moments of rarely-used weights decay into that range.
    public final func step() {
        stepCount += 1
        prepareStep()
        withDenormalsFlushed { updateAll() }
    }

    /// `step()`'s updates, after the step count and per-step scalars.
    private func updateAll() {
        if let sharing { return sharing.step(self) }
        for k in parameters.indices {
            let p = parameters[k]
            if p.isFrozen { continue }
            if updatesInPanels, let panels = p.panelsForUpdate() {
                updateKeptInPanels(k, panels)
                continue
            }
            // A packed weight updated here is packed again at its next product (its stamp moved).
            p.gradient.withUnsafeBufferPointer { g in
                p.value.withUnsafeMutableBufferPointer { x in
                    update(parameter: k, value: x, gradient: g, state: slotPointers[k])
                }
            }
        }
    }

    /// Parameter `k`, a packed weight, updated in its own panels and kept only there, as a
    /// shared update keeps one in the replicas' panels (`UpdateSharing`): nothing is packed, and
    /// `value` is copied back when read (`Parameter.synchronizeValue()`). The panels are packed
    /// first when they do not hold the current values (the first update, or after a write of
    /// `value`). Intel model 207, `gen bench`, 6 alternating rounds against Adam updating the
    /// row-major values and packing each part right after (article GAN / VAE / large GAN): 1
    /// thread 1.056 / 1.082 / 1.072 (ratios of medians), row split paired 1.034 / 0.992 / 1.016.
    private func updateKeptInPanels(_ k: Int, _ panels: PackedPanels) {
        let p = parameters[k]
        p.prepareToUpdate(in: panels, part: 0..<p.storedValue.count)
        p.gradient.withUnsafeBufferPointer { g in
            update(parameter: k, inPanels: panels, elements: 0..<p.storedValue.count, gradient: g.baseAddress!,
                   state: slotPointers[k])
        }
        p.valueLivesIn = panels
        p.packing!.packed(by: panels, for: p.storedValue)
    }

    /// Sets every parameter's gradient to zero in place.
    public func zeroGradients() { for p in parameters { p.zeroGradient() } }

    /// Sets `learningRate` from `schedule` for the 0-based `epoch` (no change without one).
    public func startEpoch(_ epoch: Int) {
        if let schedule { learningRate = schedule.learningRate(base: baseLearningRate, epoch: epoch) }
    }

    /// The optimiser's state for a checkpoint, named `<stateName>.<slot>.<parameter index>`
    /// (copies). When the update is shared (`shareUpdates(over:)`), the other replicas' parts
    /// are gathered first: call it between steps.
    public func stateTensors() -> [(name: String, tensor: Matrix)] {
        sharing?.gatherState(into: self)
        return slotNames.indices.flatMap { s in
            parameters.indices.map { k in
                let p = parameters[k].value
                var copy = Matrix(rows: p.rows, cols: p.cols)
                copy.assign(slots[s].view(offset: slotOffsets[k], rows: p.rows, cols: p.cols))
                return ("\(stateName).\(slotNames[s]).\(k)", copy)
            }
        }
    }

    /// Restores `stateTensors()` output and the step count.
    /// - Throws: `OptimizerStateError` naming the first missing/unexpected name or bad shape;
    ///   nothing is changed when it throws.
    public func loadState(_ tensors: [String: Matrix], stepCount: Int) throws {
        if stepCount < 0 { throw OptimizerStateError.negativeStepCount(stepCount) }
        var known = Set<String>()
        for s in slotNames.indices {
            for (k, p) in parameters.enumerated() {
                let name = "\(stateName).\(slotNames[s]).\(k)"
                known.insert(name)
                guard let t = tensors[name] else { throw OptimizerStateError.missingTensor(name) }
                if t.rows != p.value.rows || t.cols != p.value.cols {
                    throw OptimizerStateError.shapeMismatch(name: name, expected: [p.value.rows, p.value.cols],
                                                            actual: [t.rows, t.cols])
                }
            }
        }
        if let extra = tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw OptimizerStateError.unexpectedTensor(extra)
        }
        for s in slotNames.indices {
            for (k, p) in parameters.enumerated() {
                var view = slots[s].view(offset: slotOffsets[k], rows: p.value.rows, cols: p.value.cols)
                view.assign(tensors["\(stateName).\(slotNames[s]).\(k)"]!)
            }
        }
        self.stepCount = stepCount
        didLoadState()
    }

    /// Called after `loadState` succeeded (e.g. to mark momentum buffers as started). Default:
    /// nothing.
    open func didLoadState() {}
}

/// Optimiser state that does not fit the optimiser.
public enum OptimizerStateError: Error, Equatable, CustomStringConvertible {
    case missingTensor(String)
    case unexpectedTensor(String)
    case shapeMismatch(name: String, expected: [Int], actual: [Int])
    case negativeStepCount(Int)

    public var description: String {
        switch self {
        case .missingTensor(let n): return "optimizer state: missing tensor \"\(n)\""
        case .unexpectedTensor(let n): return "optimizer state: unexpected tensor \"\(n)\""
        case .shapeMismatch(let n, let e, let a):
            return "optimizer state: \"\(n)\" has shape \(a) but the parameter has \(e)"
        case .negativeStepCount(let s): return "optimizer state: negative step count \(s)"
        }
    }
}
