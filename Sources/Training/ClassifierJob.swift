import Datasets
import Foundation
import Generative
import Linalg
import NN

/// A run of the reference MNIST classifier (`gen train classifier`): a ReLU MLP trained with
/// softmax cross-entropy and Adam under cosine annealing (Loshchilov & Hutter 2017, SGDR
/// without restarts: `lr_e = lr/2 (1 + cos(pi e / epochs))` for 0-based epoch `e`), reporting
/// the test accuracy after each epoch (the test set is never used for any choice).
public final class ClassifierJob: TrainingJob {
    public let trainer: ClassifierTrainer
    /// The last `evaluate` result (fraction in [0, 1]); NaN before the first.
    public private(set) var testAccuracy = Double.nan
    private var testImages: Matrix?

    public init(trainer: ClassifierTrainer) { self.trainer = trainer }

    /// The classifier of `config.classifier`, weights from `Xoshiro256(seed)` (He-uniform for
    /// the ReLU layers, Glorot-uniform for the logits; the data order uses `seed + 2`), and Adam
    /// annealed over `config.epochs` epochs.
    /// - Throws: `RunError` when `config` has no classifier section, or when `data` has no
    ///   labels or a label outside `0..<classes` (naming `data.source`).
    public static func make(config: RunConfig, data: Dataset) throws -> ClassifierJob {
        guard let cc = config.classifier else { throw RunError("config: not a classifier run (\(config.model))") }
        for (split, storage) in [("training", data.train), ("test", data.test)] {
            guard let storage else { continue }
            guard let labels = storage.labels else {
                throw RunError("\(data.source): the classifier needs labelled images (MNIST IDX files); the \(split) samples have no labels")
            }
            if let bad = labels.first(where: { Int($0) >= cc.classes }) {
                throw RunError("\(data.source): \(split) label \(bad) is not one of the \(cc.classes) classes")
            }
        }
        var initRNG = Xoshiro256(seed: config.seed)
        let model = MNISTClassifier(inputSize: cc.dataDim, hidden: cc.hidden, classes: cc.classes, rng: &initRNG)
        let trainer = ClassifierTrainer(model: model, config: cc, epochs: config.epochs)
        if let maxNorm = config.clipNorm { trainer.gradientHooks.append(.clipNorm(maxNorm)) }
        return ClassifierJob(trainer: trainer)
    }

    public var kind: String { "classifier" }
    public var scaling: PixelScaling { .unit }
    public var stepColumns: [String] { ["loss"] }
    public var evalColumns: [String] { ["test_accuracy"] }
    public var step: Int { trainer.step }

    /// OpenBLAS's own threads, as the committed reference weights were trained: the same flags
    /// rebuild them bit for bit (row-split gemm sums some products in another order).
    public func threading(threads: Int) -> GEMMThreading { .openBLAS(threads: threads) }

    /// Sets this epoch's learning rate from the cosine schedule.
    public func startEpoch(_ epoch: Int) { trainer.optimizer.startEpoch(epoch) }

    /// Weighted by batch rows, so the epoch mean is per image even with a partial last batch.
    /// - Throws: `NonFiniteError` (no update applied); `RunError` for a batch without labels.
    public func trainStep(_ batch: Batch, values: inout [Double]) throws -> Int {
        guard let labels = batch.labels else { throw RunError("classifier: a batch without labels") }
        values[0] = Double(try trainer.step(images: batch.x, labels: labels))
        return batch.x.rows
    }

    /// The fraction of test images classified correctly (empty without a test split).
    public func evaluate(_ data: Dataset) -> [Double] {
        guard let test = data.test, let labels = test.labels else { return [] }
        if testImages == nil {
            var x = Matrix.empty
            test.gather(ArraySlice(0..<test.count), scaling: .unit, into: &x)
            testImages = x
        }
        // Widths and label counts were checked by `make`: this cannot throw.
        testAccuracy = (try? trainer.model.accuracy(testImages!, labels: labels)) ?? .nan
        return [testAccuracy]
    }

    public func epochLine(means: [Double], eval: [Double]) -> String {
        let lr = String(format: "%.2e", trainer.optimizer.learningRate)
        return "lr \(lr)  train loss \(fmt(means[0]))" + (eval.isEmpty ? "" : "  test accuracy \(fmt(100 * eval[0], 2))%")
    }

    public func samples(_ data: Dataset) -> [SampleSheet] { [] }

    public func checkpointFiles() -> [(stem: String, tensors: Checkpoint.Tensors)] {
        [("model", trainer.model.network.stateDict()), ("optimizer", trainer.optimizer.stateTensors())]
    }

    /// The classifier draws no noise: `noiseRNG` holds a fixed valid state, ignored on restore.
    public func trainingState(epoch: Int, dataRNG: Xoshiro256, batchInEpoch: Int) -> TrainingState {
        TrainingState(model: kind, epoch: epoch, batchInEpoch: batchInEpoch, step: trainer.step,
                      noiseRNG: Xoshiro256(seed: 0).stateWords, dataRNG: dataRNG.stateWords,
                      optimizerSteps: ["classifier": trainer.optimizer.stepCount])
    }

    public func restore(from dir: URL, state: TrainingState) throws {
        let steps = try optimizerSteps(state, "classifier", in: dir)
        try Checkpoint.load("model", in: dir) { try trainer.model.network.loadStateDict($0) }
        try Checkpoint.load("optimizer", in: dir) { try trainer.optimizer.loadState($0, stepCount: steps) }
        trainer.restore(step: state.step)
    }

    /// Writes the classifier of checkpoint `dir` (a classifier run's) as the reference weights
    /// file `gen eval` reads (`MNISTClassifier.load`), atomically, creating the parent
    /// directory. The metadata records the architecture, the input and feature conventions,
    /// `testAccuracy` (a fraction, written with 4 decimals), the epochs and `command`.
    /// - Throws: `CheckpointError`/`RunError` naming the checkpoint file or config; the file
    ///   system's error when `url` cannot be written (nothing half-written).
    public static func export(checkpoint dir: URL, to url: URL, testAccuracy: Double, command: String) throws {
        let config = try RunConfig.read(checkpoint: dir)
        guard let cc = config.classifier else {
            throw RunError("\(dir.appendingPathComponent("config.json").path): not a classifier checkpoint")
        }
        var rng = Xoshiro256(seed: 0)   // overwritten by the loaded weights
        let model = MNISTClassifier(inputSize: cc.dataDim, hidden: cc.hidden, classes: cc.classes, rng: &rng)
        try Checkpoint.load("model", in: dir) { try model.network.loadStateDict($0) }
        let shape = cc.widths.map(String.init).joined(separator: "-")
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try model.save(to: url, metadata: [
            "format": "pt", "architecture": "\(shape) ReLU MLP (nn.Sequential of Linear/ReLU)",
            "input": "28x28 MNIST image flattened row-major, bytes/255 in [0, 1]",
            "features": "penultimate layer (output of module \(2 * cc.hidden.count - 1), ReLU), \(cc.hidden.last!) values",
            "test_accuracy": String(format: "%.4f", testAccuracy), "epochs": String(config.epochs),
            "command": command,
        ])
    }
}
