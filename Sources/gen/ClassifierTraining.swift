import ArgumentParser
import Foundation
import Training

extension Train {
    /// `gen train classifier`: the reference MNIST classifier of `gen eval` (`ClassifierJob`;
    /// defaults 784-512-256-10, Adam 1e-3 cosine, batch 128, 15 epochs), trained by the library
    /// loop in a scratch run directory that is removed afterwards: only --out is written, and
    /// nothing when training fails.
    func trainClassifier() throws {
        let config = try makeConfig()
        try TrainRun(command: self).checkDefaultData(config)
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("gen-classifier-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: scratch) }
        let loop = try TrainingLoop(config: config, directory: scratch)
        print("\(config.summary), batch \(config.batchSize), \(config.epochs) epochs, seed \(config.seed), \(config.threads) threads; \(loop.data.count) training images")
        var accuracy = Double.nan
        var callbacks = TrainingCallbacks()
        callbacks.epochEnded = { r in
            accuracy = r.eval.first ?? .nan
            print("epoch \(r.epoch)/\(r.epochs)  \(r.line)  \(fmt(r.seconds, 1)) s")
            fflush(nil)
            return EpochDecision()
        }
        let started = Date()
        do { _ = try loop.run(callbacks) } catch let e as NonFiniteStop { throw RunError("\(e.error); nothing written") }
        guard let checkpoint = loop.directory.newestCheckpoint else { throw RunError("\(scratch.path): no checkpoint written") }
        // Not the committed reference by default: overwriting it changes every FID.
        let url = URL(fileURLWithPath: out ?? "runs/mnist-classifier.safetensors")
        try ClassifierJob.export(checkpoint: checkpoint, to: url, testAccuracy: accuracy,
                                 command: (["gen"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
        print("test accuracy \(fmt(100 * accuracy, 2))% after \(config.epochs) epochs (\(fmt(Date().timeIntervalSince(started), 0)) s); wrote \(url.path)")
    }
}
