import Datasets
import Foundation
import Generative

/// Everything that defines a run, saved as `config.json` in the run directory and read back when
/// the run resumes and when a checkpoint is loaded for sampling or evaluation.
public struct RunConfig: Codable, Sendable {
    /// `gan`, `vae` or `classifier`: names the one model section present.
    public var model: String
    public var gan: GANConfig?
    public var vae: VAEConfig?
    /// The reference MNIST classifier (`ClassifierJob`); absent from GAN/VAE config.json files.
    public var classifier: ClassifierConfig?
    /// Epochs to train in all (also when resuming).
    public var epochs: Int
    /// Samples per mini-batch (the last batch of an epoch keeps the remainder).
    public var batchSize: Int
    /// Seed of every generator of the run: weights `seed`, trainer noise `seed + 1`, data
    /// order `seed + 2`, the fixed sample noise `seed + 3`.
    public var seed: UInt64
    /// Threads of gemm and optimiser updates (row-split, or OpenBLAS's own for the classifier:
    /// `TrainingJob.threading`).
    public var threads: Int
    /// The data path as given (nil: the repo's data/mnist).
    public var data: String?
    /// Train on the first `limit` samples only.
    public var limit: Int?
    /// Sample pictures every `sampleEvery` epochs (and after the last).
    public var sampleEvery: Int
    /// A metrics.csv step row every `logEvery` steps.
    public var logEvery: Int
    /// Checkpoints kept (the newest).
    public var keepCheckpoints: Int
    /// Gradient clipping by global L2 norm (PyTorch's `clip_grad_norm_(max_norm:)`), nil for none.
    /// Optional so that config.json files written before it existed still decode.
    public var clipNorm: Float?
    /// How `gen train` shares a step among the threads: `batch-split` (a model replica per
    /// thread, `ThreadProcessGroup`) or `split`; nil: its default, `split` (each gemm's rows
    /// over the threads).
    /// Recorded so that a resume continues alike; `TrainingLoop` does not read it.
    public var threading: String?
    /// The values `threading` may take (`gen train --threading` parses these too).
    public enum Threading: String, CaseIterable, Sendable {
        case split, batchSplit = "batch-split"
    }
    /// A `.npy` of class labels beside `data` (`LabelSource.file`); nil: none (MNIST has its own).
    public var labels: String?
    /// The 1-based CSV column holding the class labels (`LabelSource.column`); nil: none.
    public var labelColumn: Int?
    /// Declared number of classes (labels must be below it); nil: the largest label plus one.
    public var classes: Int?
    /// The per-column scaling the data loader applied to real values outside [0, 1]
    /// (`Dataset.scaling`, set by `TrainingLoop`), so samples can be written in the data's
    /// units; nil for data in [0, 1] or bytes.
    public var dataScaling: FeatureScaling?

    /// Where the data's labels come from: `labels` or `labelColumn` (nil for neither).
    public var labelSource: LabelSource? {
        if let f = labels { return .file(f) }
        return labelColumn.map { .column($0) }
    }

    /// Most classes a conditional model may have (its first layers take one input per class).
    public static let maxClasses = 1000

    /// The run's data: `Dataset.load` of `data`, `limit`, `labelSource` and `classes`.
    /// - Throws: `DatasetError` naming the file.
    public func loadData() throws -> Dataset {
        try Dataset.load(path: data, limit: limit, labels: labelSource, classes: classes)
    }

    public init(model: String, gan: GANConfig?, vae: VAEConfig?, epochs: Int, batchSize: Int, seed: UInt64,
                threads: Int, data: String?, limit: Int?, sampleEvery: Int, logEvery: Int,
                keepCheckpoints: Int, clipNorm: Float? = nil, classifier: ClassifierConfig? = nil) {
        self.model = model
        self.gan = gan
        self.vae = vae
        self.classifier = classifier
        self.epochs = epochs
        self.batchSize = batchSize
        self.seed = seed
        self.threads = threads
        self.data = data
        self.limit = limit
        self.sampleEvery = sampleEvery
        self.logEvery = logEvery
        self.keepCheckpoints = keepCheckpoints
        self.clipNorm = clipNorm
    }

    /// The configuration as pretty-printed JSON with sorted keys (config.json).
    public func encoded() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(self)
    }

    /// Reads `config.json` of a run directory.
    /// - Throws: `RunError` naming the file when it is missing, malformed or invalid (`problem`).
    public static func read(runDirectory dir: URL) throws -> RunConfig {
        let url = dir.appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw RunError("\(url.path): not found (is \(dir.path) a run directory?)")
        }
        let config: RunConfig
        do {
            config = try JSONDecoder().decode(RunConfig.self, from: data)
        } catch {
            throw RunError("\(url.path): malformed run configuration: \(describeDecoding(error))")
        }
        if let p = config.problem { throw RunError("\(url.path): invalid run configuration: \(p)") }
        return config
    }

    /// Reads and validates the `config.json` of a checkpoint directory (as `read(runDirectory:)`).
    /// - Throws: `CheckpointError` / `RunError` naming the file.
    public static func read(checkpoint dir: URL) throws -> RunConfig {
        let config = try Checkpoint.readConfig(RunConfig.self, in: dir)
        if let p = config.problem {
            throw RunError("\(dir.appendingPathComponent("config.json").path): invalid run configuration: \(p)")
        }
        return config
    }

    /// Largest layer width or latent size accepted from a file, and largest total weight count:
    /// a hand-edited or corrupt config must not make the model allocate gigabytes.
    public static let maxWidth = 1 << 20, maxWeights = 1 << 28
    /// Largest thread count accepted from flags or a file: row-split threading starts one
    /// persistent worker thread per extra thread, so a huge count would exhaust memory.
    public static let maxThreads = 256

    /// The first impossible setting, or nil: counts at least 1, the model's own section present
    /// (and the others absent), its settings valid, sizes within the limits above, and
    /// `clipNorm` (when given) positive and finite.
    public var problem: String? {
        if let k = gan?.numClasses ?? vae?.numClasses, k > Self.maxClasses {
            return "\(k) classes: at most \(Self.maxClasses) (a conditional model's inputs grow with them)"
        }
        for (name, v) in [("epochs", epochs), ("batchSize", batchSize), ("threads", threads),
                          ("sampleEvery", sampleEvery), ("logEvery", logEvery),
                          ("keepCheckpoints", keepCheckpoints), ("limit", limit ?? 1)] where v < 1 {
            return "\(name) must be at least 1, got \(v)"
        }
        if threads > RunConfig.maxThreads { return "threads \(threads) exceeds \(RunConfig.maxThreads)" }
        if let c = clipNorm, !(c > 0 && c.isFinite) { return "clipNorm must be a positive number, got \(c)" }
        if let t = threading, Threading(rawValue: t) == nil {
            return "threading must be one of \(Threading.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(t)\""
        }
        let widths: [Int]
        switch (model, gan, vae, classifier) {
        case ("gan", let g?, nil, nil):
            do { try g.validate() } catch { return "gan: \(error)" }
            widths = [g.latentDim] + g.generatorHidden + [g.dataDim] + g.discriminatorHidden + [1]
        case ("vae", nil, let v?, nil):
            do { try v.validate() } catch { return "vae: \(error)" }
            widths = [v.dataDim] + v.hidden + [v.latentDim, v.latentDim] + v.hidden.reversed() + [v.dataDim]
        case ("classifier", nil, nil, let c?):
            do { try c.validate() } catch { return "classifier: \(error)" }
            widths = c.widths
        default:
            return "model must be \"gan\", \"vae\" or \"classifier\" with its own section (only), got \"\(model)\""
        }
        if let w = widths.first(where: { $0 > RunConfig.maxWidth }) {
            return "layer size \(w) exceeds \(RunConfig.maxWidth)"
        }
        var weights = 0
        for i in 1..<widths.count {
            weights += widths[i - 1] * widths[i]   // each <= 2^40: no overflow
            if weights > RunConfig.maxWeights { return "the model would have more than \(RunConfig.maxWeights) weights" }
        }
        return nil
    }
}

extension RunConfig {
    /// One line describing the model: layer widths, loss and optimiser, e.g.
    /// `G 100-128-784, D 784-128-1, loss non-saturating, adam lr 0.001`.
    public var summary: String {
        if let g = gan {
            let gw = ([g.latentDim] + g.generatorHidden + [g.dataDim]).map(String.init).joined(separator: "-")
            let dw = ([g.dataDim] + g.discriminatorHidden + [1]).map(String.init).joined(separator: "-")
            let arch = g.architecture == .mlp ? "" : "\(g.architecture.rawValue) (channels) "
            let extras = (g.lrSchedule == .cosine ? " cosine" : "") + (g.emaDecay.map { ", G EMA \($0)" } ?? "")
            return "\(conditionalPrefix(g.numClasses))\(arch)G \(gw), D \(dw), loss \(g.loss.rawValue), \(g.optimizer.rawValue) lr \(g.learningRate)\(extras)"
        }
        if let c = classifier {
            return "classifier \(c.widths.map(String.init).joined(separator: "-")) ReLU, Adam lr \(c.learningRate) cosine"
        }
        guard let v = vae else { return model }
        return "\(conditionalPrefix(v.numClasses))\(v.architecture == .mlp ? "" : "\(v.architecture.rawValue) (channels) ")VAE \(([v.dataDim] + v.hidden + [v.latentDim]).map(String.init).joined(separator: "-")), Adam lr \(v.learningRate)"
    }

    private func conditionalPrefix(_ classes: Int?) -> String {
        classes.map { "conditional on \($0) classes (one-hot label joined to the inputs), " } ?? ""
    }
}
