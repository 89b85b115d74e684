import ArgumentParser
import Datasets
import Foundation
import Linalg
import NN
import Training

/// `gen train classifier`: the reference MNIST classifier of `gen eval`, a ReLU MLP trained
/// with softmax cross-entropy and Adam under a cosine learning-rate schedule (Loshchilov &
/// Hutter 2017, SGDR without restarts: `lr_e = lr/2 (1 + cos(pi e / epochs))` for epoch
/// `e = 0..<epochs`). Trains on the 60,000 training images, reports test accuracy each epoch
/// (the test set is never used for any choice), and writes safetensors whose metadata records
/// the command and the accuracy.
struct ClassifierTraining {
    let epochs: Int
    let batchSize: Int
    let learningRate: Float
    let hidden: [Int]
    let seed: UInt64
    let threads: Int
    let data: String?
    let out: String
    /// The command line recorded in the file's metadata.
    let commandLine: String

    func run() throws {
        BLASThreads.set(threads)
        let dir = try InputPaths.mnist(data)
        let train = try MNIST.load(.train, from: dir)
        let test = try MNIST.load(.test, from: dir)
        var initRNG = Xoshiro256(seed: seed)
        var dataRNG = Xoshiro256(seed: seed &+ 2)
        let model = MNISTClassifier(inputSize: train.sampleSize, hidden: hidden, rng: &initRNG)
        let adam = Adam(parameters: model.network.parameters, learningRate: learningRate)
        var sampler = BatchSampler(count: train.count, batchSize: batchSize)
        var batch = Matrix.empty, grad = Matrix.empty
        // Sized by the batches that exist (--batch-size may exceed the training set).
        var labels: [Int32] = []
        labels.reserveCapacity(min(batchSize, train.count))
        let shape = "\(([train.sampleSize] + hidden + [10]).map(String.init).joined(separator: "-"))"
        print("classifier \(shape) ReLU, Adam lr \(learningRate) cosine, batch \(batchSize), \(epochs) epochs, seed \(seed), \(threads) threads; \(train.count) training images")
        let testX = Self.images(test)
        var accuracy = 0.0
        let start = Date()
        for epoch in 0..<epochs {
            adam.learningRate = Float(Double(learningRate) * 0.5 * (1 + cos(Double.pi * Double(epoch) / Double(epochs))))
            sampler.startEpoch(rng: &dataRNG)
            var lossSum = 0.0, seen = 0
            let t0 = Date()
            for b in 0..<sampler.batchesPerEpoch {
                let idx = sampler.batchIndices(b)
                gatherBatch(from: train.images, sampleSize: train.sampleSize, indices: idx, scaling: .unit, into: &batch)
                labels.removeAll(keepingCapacity: true)
                for i in idx { labels.append(Int32(train.labels[i])) }
                adam.zeroGradients()
                let logits = model.network.forward(batch, training: true)
                let loss = Loss.softmaxCrossEntropy(logits: logits, labels: labels, reduction: .mean, gradient: &grad)
                guard loss.isFinite else {
                    throw CLIError(ExitStatus.failure, "non-finite (NaN or inf) classifier loss at epoch \(epoch + 1), batch \(b + 1); nothing written")
                }
                _ = model.network.backward(grad)
                adam.step()
                lossSum += Double(loss) * Double(idx.count)
                seen += idx.count
            }
            accuracy = Self.accuracy(model, testX, test.labels)
            print("epoch \(epoch + 1)/\(epochs)  lr \(String(format: "%.2e", adam.learningRate))  train loss \(String(format: "%.4f", lossSum / Double(seen)))  test accuracy \(String(format: "%.2f", 100 * accuracy))%  \(String(format: "%.1f", Date().timeIntervalSince(t0))) s")
            fflush(nil)
        }
        let url = URL(fileURLWithPath: out)
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try model.save(to: url, metadata: [
            "format": "pt", "architecture": "\(shape) ReLU MLP (nn.Sequential of Linear/ReLU)",
            "input": "28x28 MNIST image flattened row-major, bytes/255 in [0, 1]",
            "features": "penultimate layer (output of module \(2 * hidden.count - 1), ReLU), \(hidden.last!) values",
            "test_accuracy": String(format: "%.4f", accuracy), "epochs": String(epochs),
            "command": commandLine,
        ])
        print("test accuracy \(String(format: "%.2f", 100 * accuracy))% after \(epochs) epochs (\(String(format: "%.0f", Date().timeIntervalSince(start))) s); wrote \(url.path)")
    }

    /// All images of `set` as `count x 784` Floats in [0, 1].
    static func images(_ set: LabeledImages) -> Matrix {
        var m = Matrix.empty
        gatherBatch(from: set.images, sampleSize: set.sampleSize, indices: ArraySlice(0..<set.count), scaling: .unit, into: &m)
        return m
    }

    /// Fraction of `x`'s rows whose arg-max logit is the label.
    static func accuracy(_ model: MNISTClassifier, _ x: Matrix, _ labels: [UInt8]) -> Double {
        let pred = MNISTClassifier.predictions(model.logits(x))
        var right = 0
        for i in 0..<pred.count where pred[i] == Int(labels[i]) { right += 1 }
        return Double(right) / Double(max(pred.count, 1))
    }
}

extension Train {
    /// `gen train classifier`: defaults 784-512-256-10, Adam 1e-3, batch 128, 15 epochs.
    func trainClassifier() throws {
        let widths = try hidden.map(parseHidden) ?? [512, 256]
        // The size limits of a GAN/VAE run (RunConfig), so a huge --hidden fails cleanly.
        let all = [784] + widths + [10]
        if let w = all.first(where: { $0 > RunConfig.maxWidth }) {
            throw ValidationError("--hidden: layer size \(w) exceeds \(RunConfig.maxWidth)")
        }
        if zip(all, all.dropFirst()).reduce(0, { $0 + $1.0 * $1.1 }) > RunConfig.maxWeights {
            throw ValidationError("--hidden: the classifier would have more than \(RunConfig.maxWeights) weights")
        }
        try ClassifierTraining(
            epochs: epochs ?? 15, batchSize: batchSize ?? 128, learningRate: lr ?? 1e-3,
            hidden: widths, seed: seed ?? 1,
            threads: threads ?? BLASThreads.processors, data: data,
            // Not the committed reference by default: overwriting it changes every FID.
            out: out ?? "runs/mnist-classifier.safetensors",
            commandLine: (["gen"] + CommandLine.arguments.dropFirst()).joined(separator: " ")).run()
    }
}
