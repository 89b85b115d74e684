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
        let started = Date()
        // Not the committed reference by default: overwriting it changes every FID.
        let url = URL(fileURLWithPath: out ?? "runs/mnist-classifier.safetensors")
        let accuracy = try ClassifierJob.train(
            config, exportTo: url, command: (["gen"] + CommandLine.arguments.dropFirst()).joined(separator: " "),
            loopReady: { loop in
                print("\(config.summary), batch \(config.batchSize), \(config.epochs) epochs, seed \(config.seed), \(config.threads) threads; \(loop.data.count) training images")
            },
            epochEnded: { r in
                print("epoch \(r.epoch)/\(r.epochs)  \(r.line)  \(fmt(r.seconds, 1)) s")
                fflush(nil)
            })
        print("test accuracy \(fmt(100 * accuracy, 2))% after \(config.epochs) epochs (\(fmt(Date().timeIntervalSince(started), 0)) s); wrote \(url.path)")
    }
}
