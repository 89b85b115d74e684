import Foundation
import Linalg
@testable import NN
import Synchronization
import XCTest
@testable import Generative

/// Data parallelism at the trainer level, without MPI: two replicas on two threads, each on
/// its share of every batch with the allreduce hook over a `ThreadProcessGroup`, against one
/// trainer on the whole batch.
final class DataParallelTrainerTests: XCTestCase {
    private func config() -> GANConfig {
        var c = GANConfig.standard()
        (c.dataDim, c.latentDim, c.generatorHidden, c.discriminatorHidden) = (20, 4, [16], [16])
        c.learningRate = 2e-4
        return c
    }

    private func trainer() throws -> GANTrainer {
        var rng = Xoshiro256(seed: 5)
        return try GANTrainer(model: try GAN(config: config(), rng: &rng), config: config(), rng: Xoshiro256(seed: 6))
    }

    /// 20 steps of 30 rows (shares of 15): the global losses (each replica's weighted by its
    /// share) follow the single trainer's to 1e-5 relative, the replicas' parameters are bit
    /// for bit the same, and close to the single trainer's. On AVX-512 CPUs the packed weights
    /// live only in the shared panels through all 20 steps: the trainer's step never reads
    /// their row-major values (which would copy them back each time).
    func testTwoReplicasFollowOneTrainer() throws {
        let batches = (0..<20).map { i -> Matrix in
            var r = Xoshiro256(seed: UInt64(100 + i))
            return Matrix.uniform(rows: 30, cols: 20, low: -1, high: 1, using: &r)
        }
        let single = try trainer()
        let expected = try batches.map { try single.step(real: $0).discriminator }

        let group = ThreadProcessGroup(size: 2)
        let replicas = [try trainer(), try trainer()]
        let losses = Mutex<[[Float]]>([[], []])
        let keptInPanels = Mutex<[(weights: Int, stale: Int)]>([(0, 0), (0, 0)])
        let done = DispatchGroup()
        for rank in 0..<2 {
            done.enter()
            nonisolated(unsafe) let t = replicas[rank]
            Thread {
                t.distribute(over: group.member(rank))
                for b in batches {
                    let shard = RowShard(rank: rank, of: 2, globalRows: b.rows)
                    let l = try? t.step(real: b.rows(shard.rows), shard: shard)
                    losses.withLock { $0[rank].append((l?.discriminator ?? .nan) * shard.weight) }
                }
                let packed = (t.model.generator.parameters + t.model.discriminator.parameters).filter { $0.packing != nil }
                keptInPanels.withLock { $0[rank] = (packed.count, packed.filter { $0.valueLivesIn != nil }.count) }
                done.leave()
            }.start()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success, "the replicas hung")
        if PackedPanels.isAvailable {
            for (rank, kept) in keptInPanels.withLock({ $0 }).enumerated() {
                XCTAssertEqual(kept.weights, 2, "rank \(rank): packed weights (G's 16 -> 20, D's 20 -> 16)")
                XCTAssertEqual(kept.stale, kept.weights, "rank \(rank): weights copied back during training")
            }
        }
        let global = losses.withLock { zip($0[0], $0[1]).map { $0 + $1 } }
        XCTAssertEqual(global.count, expected.count)
        for (step, (g, e)) in zip(global, expected).enumerated() {
            XCTAssertEqual(g, e, accuracy: 1e-5 * abs(e), "step \(step + 1)")
        }
        let p0 = (replicas[0].model.generator.parameters + replicas[0].model.discriminator.parameters).flatMap { $0.value.elements }
        let p1 = (replicas[1].model.generator.parameters + replicas[1].model.discriminator.parameters).flatMap { $0.value.elements }
        let ps = (single.model.generator.parameters + single.model.discriminator.parameters).flatMap { $0.value.elements }
        XCTAssertEqual(p0.map(\.bitPattern), p1.map(\.bitPattern), "the replicas' parameters differ")
        let worst = zip(p0, ps).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-5, "replica and single trainer differ by \(worst)")
        XCTAssertNotEqual(ps, Array(repeating: 0, count: ps.count))
    }
}
