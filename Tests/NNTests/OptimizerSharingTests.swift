import Foundation
import Linalg
import Synchronization
import XCTest
@testable import NN

/// `Optimizer.shareUpdates(over:)`: replicas on threads, each updating its part of the
/// parameters, against one optimiser updating all of them with the same gradients. The update
/// is element-wise, so the result must be the same bits, on every replica; the gathered state
/// must equal the unshared optimiser's.
final class OptimizerSharingTests: XCTestCase {
    /// Three tensors of uneven sizes (a 1-element one, so some ranks own none of it).
    private static func parameters(seed: UInt64) -> [Parameter] {
        var rng = Xoshiro256(seed: seed)
        return [(3, 7), (1, 1), (5, 4)].enumerated().map { i, shape in
            Parameter(name: "p\(i)", value: Matrix.uniform(rows: shape.0, cols: shape.1, low: -1, high: 1, using: &rng))
        }
    }

    private static func optimizer(_ kind: String, _ ps: [Parameter]) -> Optimizer {
        switch kind {
        case "adam": return Adam(parameters: ps, learningRate: 0.01, weightDecay: 0.1)
        case "sgd": return SGD(parameters: ps, learningRate: 0.05, momentum: 0.9, nesterov: true)
        case "plain-sgd": return SGD(parameters: ps, learningRate: 0.05)   // no state slots
        default: return RMSprop(parameters: ps, learningRate: 0.01)
        }
    }

    /// Step t's gradient of tensor k (the same on every replica, as after an allreduce).
    /// `storedValue`'s shape: reading `value` would copy a weight kept in panels back.
    private static func gradient(step t: Int, tensor k: Int, like p: Parameter) -> Matrix {
        var rng = Xoshiro256(seed: UInt64(1000 * t + k))
        return Matrix.uniform(rows: p.storedValue.rows, cols: p.storedValue.cols, low: -2, high: 2, using: &rng)
    }

    func testSharedUpdatesEqualOneOptimizer() throws {
        for kind in ["adam", "sgd", "plain-sgd", "rmsprop"] {
            for size in [2, 3] {
                let reference = Self.parameters(seed: 1)
                let single = Self.optimizer(kind, reference)
                for t in 0..<6 {
                    for (k, p) in reference.enumerated() { p.gradient = Self.gradient(step: t, tensor: k, like: p) }
                    // A frozen tensor in one step: skipped alike.
                    reference[1].isFrozen = t == 2
                    single.step()
                }
                let expectedState = single.stateTensors().map { ($0.name, $0.tensor.elements.map(\.bitPattern)) }

                let group = ThreadProcessGroup(size: size)
                let results = Mutex<[Int: ([[UInt32]], [(String, [UInt32])])]>([:])
                let done = DispatchGroup(), othersGone = DispatchGroup()
                for rank in 0..<size {
                    done.enter()
                    if rank != 0 { othersGone.enter() }
                    Thread {
                        defer { done.leave() }
                        let ps = Self.parameters(seed: 1)
                        let opt = Self.optimizer(kind, ps)
                        opt.shareUpdates(over: group.member(rank))
                        for t in 0..<6 {
                            for (k, p) in ps.enumerated() { p.gradient = Self.gradient(step: t, tensor: k, like: p) }
                            ps[1].isFrozen = t == 2
                            opt.step()
                        }
                        // Rank 0 gathers after the other ranks' optimisers are gone (as after a
                        // run's last step, when rank 0 writes the final checkpoint).
                        if rank != 0 {
                            results.withLock { $0[rank] = (ps.map { $0.value.elements.map(\.bitPattern) }, []) }
                            othersGone.leave()
                            return
                        }
                        othersGone.wait()
                        let state = opt.stateTensors().map { ($0.name, $0.tensor.elements.map(\.bitPattern)) }
                        results.withLock { $0[rank] = (ps.map { $0.value.elements.map(\.bitPattern) }, state) }
                    }.start()
                }
                XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "\(kind) over \(size) threads hung")
                let expected = reference.map { $0.value.elements.map(\.bitPattern) }
                for rank in 0..<size {
                    XCTAssertEqual(results.withLock { $0[rank]?.0 }, expected, "\(kind), \(size) ranks: rank \(rank)'s parameters")
                }
                let state = results.withLock { $0[0]?.1 } ?? []
                XCTAssertEqual(state.map(\.0), expectedState.map(\.0), kind)
                XCTAssertEqual(state.map(\.1), expectedState.map(\.1), "\(kind), \(size) ranks: gathered state")
            }
        }
    }

    /// Packed weights (Dense's, on AVX-512): Adam keeps them only in panels shared by all ranks
    /// (each rank updates its part there), and each rank's products read those panels. Checked
    /// against one unshared optimiser on the same gradients: the products over the shared
    /// panels must equal products over a fresh packing of its values to the bit, before anyone
    /// reads `value` (no copy back in between: `valueLivesIn` stays set), and `value` must then
    /// be its values; a write of `value` between updates (step 2, on every replica) must be
    /// packed again; frozen or not.
    func testSharedUpdatesKeepPackedWeightsInSharedPanels() throws {
        try XCTSkipUnless(PackedPanels.isAvailable, "no AVX-512F: weights are not packed")
        for (variant, size) in [(0, 2), (0, 3), (1, 2), (2, 3)] {
            let reference = Self.keptParameters(), single = Self.adam(variant, reference)
            var expected: [[Matrix]] = []
            for t in 0..<5 {
                Self.prepare(reference, step: t)
                single.step()
                expected.append(reference.map(\.value))
            }
            let group = ThreadProcessGroup(size: size)
            let failures = Mutex<[String]>([])
            let done = DispatchGroup()
            let expectedValues = expected
            for rank in 0..<size {
                done.enter()
                Thread {
                    defer { done.leave() }
                    let ps = Self.keptParameters(), opt = Self.adam(variant, ps)
                    let member = group.member(rank)
                    opt.shareUpdates(over: member)
                    for t in 0..<5 {
                        Self.prepare(ps, step: t)
                        opt.step()
                        let problems = Self.keptWeightProblems(ps, expected: expectedValues[t], readValue: t % 2 == 1)
                        failures.withLock { $0 += problems.map { "Adam \(variant), \(size) ranks, rank \(rank), step \(t): \($0)" } }
                        // Training reaches the next update through an allreduce: no rank
                        // updates the next step's values while another still reads these.
                        try? member.barrier()
                    }
                }.start()
            }
            XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "\(size) threads hung")
            XCTAssertEqual(failures.withLock { $0 }, [])
        }
    }

    /// Adam's three loops: L2 decay (torch's Adam), none, decoupled (AdamW).
    private static func adam(_ variant: Int, _ ps: [Parameter]) -> Optimizer {
        switch variant {
        case 0: return Adam(parameters: ps, learningRate: 0.01, weightDecay: 0.1)
        case 1: return Adam(parameters: ps, learningRate: 0.01)
        default: return Adam(parameters: ps, learningRate: 0.01, weightDecay: 0.1, decoupledWeightDecay: true)
        }
    }

    /// A value saved from a kept weight and assigned back after a shared update (best weights
    /// restored, a rollback) shares the storage and version the panels were recorded with: the
    /// products and the next update must still see the assigned values, as with one unshared
    /// Adam. (Found by review: before `PackedWeight.invalidate`, the panels' newer values won.)
    func testAssigningASavedValueBackAfterSharedUpdates() throws {
        try XCTSkipUnless(PackedPanels.isAvailable, "no AVX-512F: weights are not packed")
        let reference = Self.keptParameters()
        let expected = Self.assignBack(reference, Adam(parameters: reference, learningRate: 0.01), barrier: {})
        let group = ThreadProcessGroup(size: 2)
        let results = Mutex<[Int: (product: [UInt32], value: [UInt32])]>([:])
        let done = DispatchGroup()
        for rank in 0..<2 {
            done.enter()
            Thread {
                defer { done.leave() }
                let ps = Self.keptParameters(), opt = Adam(parameters: ps, learningRate: 0.01), member = group.member(rank)
                opt.shareUpdates(over: member)
                let result = Self.assignBack(ps, opt, barrier: { try? member.barrier() })
                results.withLock { $0[rank] = result }
            }.start()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "hung")
        for rank in 0..<2 {
            let result = results.withLock { $0[rank] }
            XCTAssertEqual(result?.product, expected.product, "rank \(rank): the product right after the assignment")
            XCTAssertEqual(result?.value, expected.value, "rank \(rank): the value two updates later")
        }
    }

    /// Four updates; w0 saved after the second, assigned back after the third (with the product
    /// its panels give right then).
    private static func assignBack(_ ps: [Parameter], _ opt: Optimizer, barrier: () -> Void) -> (product: [UInt32], value: [UInt32]) {
        var saved = Matrix.empty, product: [UInt32] = []
        for t in 0..<4 {
            for (k, p) in ps.enumerated() { p.gradient = gradient(step: t, tensor: k, like: p) }
            opt.step()
            if t == 1 { saved = ps[0].value }
            if t == 2 {
                ps[0].value = saved
                var rng = Xoshiro256(seed: 9)
                let a = Matrix.uniform(rows: 5, cols: 20, low: -1, high: 1, using: &rng)
                var c = Matrix(rows: 5, cols: 33)
                gemm(a, packed: ps[0].packedPanels(forRows: 5)!, into: &c)
                product = c.elements.map(\.bitPattern)
            }
            barrier()
        }
        return (product, ps[0].value.elements.map(\.bitPattern))
    }

    /// Tensors of uneven shapes, three of them packed weights (one of 130 columns: a partial
    /// third panel).
    private static func keptParameters() -> [Parameter] {
        var rng = Xoshiro256(seed: 4)
        let ps = [(20, 33), (1, 1), (17, 16), (3, 130)].enumerated().map { i, shape in
            Parameter(name: "w\(i)", value: Matrix.uniform(rows: shape.0, cols: shape.1, low: -1, high: 1, using: &rng))
        }
        for k in [0, 2, 3] { ps[k].packing = PackedWeight() }
        return ps
    }

    /// Step t's gradients; w2 frozen at step 2, and w0 written then (as a loaded checkpoint).
    private static func prepare(_ ps: [Parameter], step t: Int) {
        for (k, p) in ps.enumerated() { p.gradient = gradient(step: t, tensor: k, like: p) }
        ps[2].isFrozen = t == 2
        if t == 2 {
            var rng = Xoshiro256(seed: 12)
            ps[0].value = Matrix.uniform(rows: 20, cols: 33, low: -3, high: 3, using: &rng)
        }
    }

    /// A weight under two shared optimisers (each with its own shared panels): after either
    /// one's update the products must see the values just written, whichever panels hold them
    /// — both row-major (SGD), one keeping it in its panels (Adam) and the other not, or both
    /// keeping it (each copies it back from the other's first). Checked against the same two
    /// optimisers unshared.
    func testWeightUnderTwoSharedOptimizers() throws {
        try XCTSkipUnless(PackedPanels.isAvailable, "no AVX-512F: weights are not packed")
        for kinds in [("sgd", "sgd"), ("adam", "sgd"), ("sgd", "adam"), ("adam", "adam")] {
            let reference = Self.twoOptimizerWeight()
            var expected: [Matrix] = []
            let unshared = Self.optimizers(kinds, reference)
            for t in 0..<3 {
                for (i, opt) in unshared.enumerated() {
                    reference.gradient = Self.gradient(step: t, tensor: i, like: reference)
                    opt.step()
                    expected.append(reference.value)
                }
            }
            let group = ThreadProcessGroup(size: 2)
            let failures = Mutex<[String]>([])
            let done = DispatchGroup()
            let expectedValues = expected
            for rank in 0..<2 {
                done.enter()
                Thread {
                    defer { done.leave() }
                    let w = Self.twoOptimizerWeight(), member = group.member(rank), opts = Self.optimizers(kinds, w)
                    for opt in opts { opt.shareUpdates(over: member) }
                    for t in 0..<3 {
                        for (i, opt) in opts.enumerated() {
                            w.gradient = Self.gradient(step: t, tensor: i, like: w)
                            opt.step()
                            if let problem = Self.packingProblem(w, expectShared: true, values: expectedValues[2 * t + i]) {
                                failures.withLock { $0.append("\(kinds), rank \(rank), step \(t), after optimiser \(i): \(problem)") }
                            }
                            try? member.barrier()
                        }
                    }
                    if w.value != expectedValues.last! { failures.withLock { $0.append("\(kinds), rank \(rank): final value") } }
                }.start()
            }
            XCTAssertEqual(done.wait(timeout: .now() + 30), .success, "\(kinds) hung")
            XCTAssertEqual(failures.withLock { $0 }, [])
        }
    }

    private static func twoOptimizerWeight() -> Parameter {
        var rng = Xoshiro256(seed: 6)
        let w = Parameter(name: "w", value: Matrix.uniform(rows: 20, cols: 33, low: -1, high: 1, using: &rng))
        w.packing = PackedWeight()
        return w
    }

    private static func optimizers(_ kinds: (String, String), _ w: Parameter) -> [Optimizer] {
        [kinds.0 == "adam" ? Adam(parameters: [w], learningRate: 0.01) : SGD(parameters: [w], learningRate: 0.1),
         kinds.1 == "adam" ? Adam(parameters: [w], learningRate: 0.02) : SGD(parameters: [w], learningRate: 0.3)]
    }

    /// What is wrong with replica parameters `ps` against the unshared optimiser's `expected`
    /// values: a packed weight's products over its (shared) panels, its staleness before any read,
    /// and — with `readValue` — `value` itself (which copies it back) and every other tensor.
    private static func keptWeightProblems(_ ps: [Parameter], expected: [Matrix], readValue: Bool) -> [String] {
        var problems: [String] = []
        for (k, p) in ps.enumerated() where p.packing != nil {
            if !p.isFrozen && p.valueLivesIn == nil { problems.append("w\(k) was copied back without a read") }
            if let problem = packingProblem(p, expectShared: true, values: expected[k]) { problems.append("w\(k): \(problem)") }
        }
        guard readValue else { return problems }
        for (k, p) in ps.enumerated() where p.value.elements.map(\.bitPattern) != expected[k].elements.map(\.bitPattern) {
            problems.append("w\(k)'s value differs")
        }
        for (k, p) in ps.enumerated() where p.valueLivesIn != nil { problems.append("w\(k) still stale after a read") }
        return problems
    }

    /// Nil when `p`'s products use the shared panels (if `expectShared`) and they equal a fresh
    /// packing of `values` (default: `p.value`) to the bit; otherwise what differs.
    private static func packingProblem(_ p: Parameter, expectShared: Bool, values: Matrix? = nil) -> String? {
        guard let panels = p.packedPanels(forRows: 5) else { return "not packed" }
        if expectShared && p.packing?.usesOthersPanels != true { return "own panels, not the shared ones" }
        let values = values ?? p.value
        let fresh = PackedPanels(rows: values.rows, cols: values.cols)
        fresh.pack(values, elements: 0..<values.count)
        var rng = Xoshiro256(seed: 9)
        let a = Matrix.uniform(rows: 5, cols: values.rows, low: -1, high: 1, using: &rng)
        var c1 = Matrix(rows: 5, cols: values.cols), c2 = c1
        gemm(a, packed: panels, into: &c1)
        gemm(a, packed: fresh, into: &c2)
        return c1 == c2 ? nil : "products differ from a fresh packing"
    }

    /// Sharing needs threads of one process: a group of one, or another kind of group, leaves
    /// the optimiser whole.
    func testSharingIgnoresOtherGroups() {
        let opt = Self.optimizer("adam", Self.parameters(seed: 2))
        opt.shareUpdates(over: ThreadProcessGroup(size: 1).member(0))
        XCTAssertNil(opt.sharing)
    }
}

/// `UpdateSharing.costSplit`'s parts, worked by hand.
final class UpdateCostSplitTests: XCTestCase {
    func testPartsSplitTheCostNotTheCount() {
        // Costs 10·2 + 10·3 = 50; half is 25: all of the first (20) and ceil(5 / 3) = 2 more.
        XCTAssertEqual(UpdateSharing.costSplit(counts: [10, 10], costs: [2, 3], size: 2), [0..<12, 12..<20])
        // Equal costs: equal counts, as RowShard splits them.
        XCTAssertEqual(UpdateSharing.costSplit(counts: [7, 5], costs: [2, 2], size: 3), [0..<4, 4..<8, 8..<12])
        // At a VAE's sizes (313,600 elements at cost 2, 339,224 at 3): total
        // 313,600·2 + 339,224·3 = 1,644,872; half 822,436 = 627,200 + 195,236, and
        // ceil(195,236 / 3) = 65,079 elements past the first parameter.
        let vae = UpdateSharing.costSplit(counts: [313_600, 339_224], costs: [2, 3], size: 2)
        XCTAssertEqual(vae, [0..<378_679, 378_679..<652_824])
        XCTAssertEqual(UpdateSharing.costSplit(counts: [3], costs: [2], size: 1), [0..<3])
        // More ranks than elements: empty parts, still contiguous and in order.
        XCTAssertEqual(UpdateSharing.costSplit(counts: [1], costs: [3], size: 3), [0..<1, 1..<1, 1..<1])
    }
}
