import Generative
import Linalg
import NN
import Training
import XCTest

/// `GANConfig.lrSchedule`: GANJob gives both players cosine annealing over the run's epochs.
final class GANScheduleTests: XCTestCase {
    func job(schedule: GANLearningRateSchedule?, epochs: Int) throws -> GANJob {
        var gc = GANConfig()
        gc.dataDim = 16
        gc.generatorHidden = [8]
        gc.discriminatorHidden = [8]
        gc.latentDim = 3
        gc.learningRate = 0.002
        gc.lrSchedule = schedule
        var config = RunConfig.gan(epochs: epochs, batchSize: 8, seed: 1)
        config.gan = gc
        var rng = Xoshiro256(seed: 1)
        return try GANJob(model: GAN(config: gc, rng: &rng), config: config)
    }

    /// lr_e = 0.002 / 2 (1 + cos(pi e / 4)) for epochs 4: 0.002, 0.002 (2 + sqrt 2) / 4 =
    /// 0.0017071, 0.001, 0.002 (2 - sqrt 2) / 4 = 0.00029289, by hand.
    func testCosineAnnealsBothPlayersOverTheRunsEpochs() throws {
        let j = try job(schedule: .cosine, epochs: 4)
        let expected: [Float] = [0.002, 0.0017071068, 0.001, 0.00029289322]
        for (epoch, lr) in expected.enumerated() {
            j.startEpoch(epoch)
            XCTAssertEqual(j.trainer.generatorOptimizer.learningRate, lr, accuracy: 1e-9, "epoch \(epoch)")
            XCTAssertEqual(j.trainer.discriminatorOptimizer.learningRate, lr, accuracy: 1e-9, "epoch \(epoch)")
        }
    }

    /// nil (every config.json written before the field) and .constant keep the base rate.
    func testConstantAndAbsentKeepTheRate() throws {
        for schedule in [nil, GANLearningRateSchedule.constant] {
            let j = try job(schedule: schedule, epochs: 4)
            j.startEpoch(3)
            XCTAssertEqual(j.trainer.generatorOptimizer.learningRate, 0.002)
            XCTAssertEqual(j.trainer.discriminatorOptimizer.learningRate, 0.002)
        }
    }

    /// A config.json without the field decodes to nil, and the field round-trips.
    func testConfigDecoding() throws {
        var gc = GANConfig()
        let old = try JSONEncoder().encode(gc)
        XCTAssertFalse(String(decoding: old, as: UTF8.self).contains("lrSchedule"))
        XCTAssertNil(try JSONDecoder().decode(GANConfig.self, from: old).lrSchedule)
        gc.lrSchedule = .cosine
        XCTAssertEqual(try JSONDecoder().decode(GANConfig.self, from: JSONEncoder().encode(gc)).lrSchedule, .cosine)
    }
}
