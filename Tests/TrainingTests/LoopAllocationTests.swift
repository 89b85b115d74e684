import Datasets
import Foundation
import Generative
import Linalg
import MallocInterposerSwift
import Training
import XCTest

/// The library loop adds no heap allocation to a training step: counted with malloc-interposer
/// from inside the step callback over 20 mid-epoch steps (no metrics row, checkpoint or
/// evaluation falls in between), the loop's count equals that of 20 bare trainer steps on a
/// ready batch. (Release builds of the trainers allocate nothing per step, `gen bench`; a debug
/// build of this test may see the trainers' own allocations, on both sides.)
final class LoopAllocationTests: XCTestCase {
    func allocations(_ model: String) throws -> (loop: Int, bare: Int) {
        var m = Matrix(rows: 120, cols: 16)
        for i in 0..<120 { for j in 0..<16 { m[i, j] = Float((i * 7 + j * 3) % 17) / 16 } }
        // Labelled bytes would do as well; floats exercise the [-1, 1] rescale for the GAN.
        let data = Dataset(train: .floats(m), test: nil, source: "formula", imageShape: nil)
        var g = GANConfig.standard()
        g.latentDim = 4; g.generatorHidden = [8]; g.discriminatorHidden = [8]
        var v = VAEConfig()
        v.hidden = [8]; v.latentDim = 2
        let config = RunConfig(model: model, gan: model == "gan" ? g : nil, vae: model == "vae" ? v : nil,
                               epochs: 1, batchSize: 2, seed: 3, threads: 1, data: nil, limit: nil,
                               sampleEvery: 1000, logEvery: 1000, keepCheckpoints: 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("loop-alloc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let loop = try TrainingLoop(config: config, directory: dir, data: data)
        var callbacks = TrainingCallbacks()
        callbacks.step = { r in
            if r.step == 20 { MallocInterposerSwift.reset(); MallocInterposerSwift.hook() }
            if r.step == 40 { MallocInterposerSwift.unhook() }
        }
        callbacks.stopRequested = { false }
        MallocInterposerSwift.initialize()
        XCTAssertEqual(try loop.run(callbacks), .completed)
        let inLoop = MallocInterposerSwift.getStatistics().mallocCount

        // The same trainer, stepped directly on a gathered batch (after the same warm-up).
        let job = try makeTrainingJob(config: loop.config, data: data)
        var batch = Batch()
        data.train.gather(ArraySlice(0..<2), scaling: job.scaling, into: &batch.x)
        var values = [Double](repeating: 0, count: job.stepColumns.count)
        for _ in 0..<20 { _ = try job.trainStep(batch, values: &values) }
        MallocInterposerSwift.reset()
        MallocInterposerSwift.hook()
        for _ in 0..<20 { _ = try job.trainStep(batch, values: &values) }
        MallocInterposerSwift.unhook()
        return (inLoop, MallocInterposerSwift.getStatistics().mallocCount)
    }

    func testNoAllocationPerStep() throws {
        // Positive control: the counter sees an allocation here, or the test cannot say anything.
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.reset()
        MallocInterposerSwift.hook()
        let control = Matrix(rows: 8, cols: 8)
        MallocInterposerSwift.unhook()
        guard MallocInterposerSwift.getStatistics().mallocCount > 0, control.count == 64 else {
            throw XCTSkip("malloc-interposer does not see allocations in this test binary")
        }
        for model in ["gan", "vae"] {
            let (loop, bare) = try allocations(model)
            XCTAssertEqual(loop, bare, "\(model): allocations in 20 loop steps vs 20 bare trainer steps")
        }
    }
}
