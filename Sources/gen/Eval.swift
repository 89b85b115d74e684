import ArgumentParser
import Datasets
import FileIO
import Foundation
import Generative
import Linalg
import Training

/// `gen eval`: sample quality of a run, a checkpoint or a `.npy` of samples, measured with the
/// reference MNIST classifier (FID, mode coverage), the IWAE bound (VAE), and nearest-neighbour
/// distances to the training set (memorisation). Prints a table and writes `eval.json`.
struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate samples: FID and class coverage with the reference classifier, VAE IWAE bound, memorisation; writes eval.json and pictures.")

    enum Range: String, ExpressibleByArgument { case unit, symmetric }

    @Argument(help: "A run directory (its newest checkpoint) or a checkpoint directory.")
    var path: String?
    @Option(help: "A .npy of samples (N x 784) instead of a model.")
    var samples: String?
    @Option(help: "Value range of --samples: unit ([0, 1]) or symmetric ([-1, 1]).")
    var range: Range?
    @Option(help: "Reference classifier weights. Default: the shipped models/mnist-classifier.safetensors, found from any directory (see README).")
    var classifier: String?
    @Option(help: "MNIST directory. Default: the shipped data/mnist, found from any directory (see README).")
    var data: String?
    /// Largest IWAE sample count `k`.
    static let maxK = 1_000_000
    /// Largest `--count` (about 400 MB of samples).
    static let maxCount = 1 << 17

    @Option(parsing: .unconditional, help: "Samples generated from a model (at most 131072).")
    var count: Int = 10000
    @Option(parsing: .unconditional, help: "Seed of sample noise and IWAE draws.")
    var seed: UInt64 = 1
    @Option(parsing: .unconditional, help: "IWAE sample counts k, comma-separated, each at most 1000000 (VAE only; 5000 gives the tightest bound, about 80x the time of 64).")
    var iwaeK: String = "1,64"
    @Option(parsing: .unconditional, help: "Test images for the IWAE bound (10000: all of them).")
    var iwaeImages: Int = 1000
    @Option(parsing: .unconditional, help: "Samples and test images whose nearest training image the memorisation analysis finds.")
    var memorisationImages: Int = 2000
    @Option(help: "Output directory for eval.json and pictures. Default: the run or checkpoint directory; for --samples, <file>-eval/ beside it.")
    var out: String?
    @Option(parsing: .unconditional, help: "OpenBLAS threads, at most 256. Default: all processors.")
    var threads: Int?
    @Flag(help: "Skip the nearest-neighbour (memorisation) analysis.")
    var noMemorisation = false
    @Option(help: "Also save the generated samples as a float32 .npy: images in the model's own range (GAN [-1, 1], VAE [0, 1]), other data in its own units.")
    var saveSamples: String?

    func validate() throws {
        if (path == nil) == (samples == nil) { throw ValidationError("give a run or checkpoint directory, or --samples FILE.npy (not both)") }
        if samples != nil && range == nil { throw ValidationError("--samples needs --range unit|symmetric") }
        // The upper bound keeps count x 784 samples and their features allocatable.
        if count < 2 || count > Eval.maxCount {
            throw ValidationError("--count must be in 2...\(Eval.maxCount), got \(count)")
        }
        if iwaeImages < 1 { throw ValidationError("--iwae-images must be at least 1, got \(iwaeImages)") }
        if memorisationImages < 1 { throw ValidationError("--memorisation-images must be at least 1, got \(memorisationImages)") }
        if let t = threads, !(1...RunConfig.maxThreads).contains(t) {
            throw ValidationError("--threads must be in 1...\(RunConfig.maxThreads), got \(t)")
        }
        _ = try parseK()
    }

    func parseK() throws -> [Int] {
        let ks = iwaeK.split(separator: ",", omittingEmptySubsequences: false).map { Int($0.trimmingCharacters(in: .whitespaces)) }
        // The upper bound keeps images x k (up to 10,000 x k) far from Int overflow.
        guard !ks.isEmpty, ks.allSatisfy({ (1...Eval.maxK).contains($0 ?? 0) }) else {
            throw ValidationError("--iwae-k must be integers in 1...\(Eval.maxK) separated by commas, got '\(iwaeK)'")
        }
        return ks.map { $0! }.sorted()
    }

    /// Failures propagate to `Gen.main`, which prints them and picks the exit code.
    func run() throws {
        try evaluate()
    }

    private func evaluate() throws {
        let started = Date()
        BLASThreads.set(threads ?? BLASThreads.processors)
        // Inputs are checked before the slow loads (and before anything is written).
        if let path {
            let dir = try Sample.resolveCheckpoint(path, naming: "run or checkpoint directory")
            // A model of other data than 28x28 images: no classifier applies.
            let model = try LoadedModel.load(checkpoint: dir)
            if model.dataDim != 784 { return try evaluateVectors(model, checkpoint: dir, started: started) }
        }
        let dataDir = try InputPaths.mnist(data)
        let classifier = try InputPaths.classifier(self.classifier).path
        let train = try MNIST.load(.train, from: dataDir).matrix(scaling: .unit)
        let ref = try loadFIDReference(classifierPath: classifier, test: MNIST.load(.test, from: dataDir))
        let (x, model, source, outDir) = try samplesToEvaluate(ref)
        let evalDir = outDir.appendingPathComponent("eval")
        do {
            try FileManager.default.createDirectory(at: evalDir, withIntermediateDirectories: true)
        } catch { throw CLIError.cannotWrite(evalDir.path, error) }
        var (report, nearest) = try EvaluationReport.measure(
            samples: x, model: model, reference: ref, train: train, iwaeK: try parseK(), iwaeImages: iwaeImages,
            seed: seed, memorisation: !noMemorisation, memorisationImages: memorisationImages,
            progress: { print("  \($0) ...") })
        (report.source, report.classifier) = (source, classifier)
        if let nearest {
            try PNGImage.writeGrid(nearest, height: 28, width: 28, columns: max(nearest.rows / 2, 1), range: 0...1,
                                   background: 128, to: evalDir.appendingPathComponent("nearest-neighbours.png"))
        }
        report.pictures = try EvaluationPictures.write(samples: x, model: model, test: ref.testImages,
                                                      testLabels: ref.testLabels.map { Int32($0) }, into: evalDir, seed: seed &+ 2)
        if nearest != nil { report.pictures.insert("eval/nearest-neighbours.png", at: 0) }
        report.seconds = Date().timeIntervalSince(started)

        try publish(report, in: outDir, pictures: evalDir)
    }

    /// Prints `report`'s table, writes `outDir/eval.json` and, for a run directory, refreshes
    /// its report.html (which shows the eval table).
    func publish(_ report: EvaluationReport, in outDir: URL, pictures: URL?) throws {
        print(report.table())
        let url = outDir.appendingPathComponent("eval.json")
        try AtomicFile.write(report.encoded(), to: url)
        print("wrote \(url.path)" + (pictures.map { " and \($0.path)/" } ?? ""))
        if FileManager.default.fileExists(atPath: outDir.appendingPathComponent("metrics.csv").path) {
            print("wrote \(try RunReport.write(runDirectory: outDir).path)")
        }
    }

    /// The samples (`n x 784` in [0, 1]) from --samples or generated from the model (saved with
    /// --save-samples), the model, a description of the source and the output directory.
    private func samplesToEvaluate(_ ref: FIDReference) throws -> (Matrix, LoadedModel?, String, URL) {
        let dim = ref.classifier.inputSize
        if let s = samples {
            let url = URL(fileURLWithPath: s)
            let x = try NPY.readSamples(contentsOf: url, range: range == .unit ? 0...1 : -1...1, width: dim)
            return (x, nil, url.path, URL(fileURLWithPath: out ?? url.deletingPathExtension().path + "-eval"))
        }
        let dir = try Sample.resolveCheckpoint(path!, naming: "run or checkpoint directory")
        let m = try LoadedModel.load(checkpoint: dir)
        var rng = Xoshiro256(seed: seed)
        let x = m.unitSamples(count: count, rng: &rng)
        if let file = saveSamples {
            // Back to the model's own range, as the flag's help promises.
            try NPY.write(x.mappingRange(from: 0...1, to: m.outputRange), to: URL(fileURLWithPath: file))
            print("saved \(x.rows) samples to \(file) (range \(m.kind == "gan" ? "symmetric" : "unit"))")
        }
        guard x.cols == dim else {
            throw RunError("\(dir.path): the model makes \(x.cols)-value samples; the classifier expects \(dim)")
        }
        return (x, m, dir.path, URL(fileURLWithPath: out ?? URL(fileURLWithPath: path!).path))
    }
}
