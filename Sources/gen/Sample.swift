import ArgumentParser
import Datasets
import Foundation
import Generative
import Linalg
import Training

/// `gen sample`: a grid of samples from a trained model.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write samples from a checkpoint (a checkpoint directory, or a run directory for its newest): a PNG grid, a class grid of a conditional model, or their values as .npy.")

    @Option(help: "A checkpoint directory (runs/X/checkpoints/step-N) or a run directory.")
    var checkpoint: String
    /// Largest `--count`: a 256 x 256 grid.
    static let maxCount = 1 << 16

    @Option(name: .customLong("count"), parsing: .unconditional, help: "Number of samples (at most 65536; with --class-grid: columns). Default: 64 (class grid: 10).")
    var countOption: Int?
    @Option(help: "Output: .png (a grid) or .npy (N x D float32 values in the data's units).")
    var out: String = "grid.png"
    @Option(parsing: .unconditional, help: "Seed of the noise.")
    var seed: UInt64 = 1
    @Option(parsing: .unconditional, help: "Images per grid row. Default: the square root of --count, rounded up.")
    var columns: Int?
    @Option(parsing: .unconditional, help: "Class of every sample, for a conditional model (required by one, refused by others unless --class-grid).")
    var label: Int?
    @Flag(help: "Conditional model: one row per class, the same noise down each column (--count columns; default 10).")
    var classGrid = false

    /// `--count`, or its default.
    var count: Int { countOption ?? 64 }

    func validate() throws {
        if label != nil && classGrid { throw ValidationError("give --label or --class-grid, not both") }
        if let l = label, l < 0 { throw ValidationError("--label must be a class number 0 or more, got \(l)") }
        // The upper bound keeps the samples (count x 784 floats) and the grid allocatable.
        if let count = countOption, count < 1 || count > Sample.maxCount {
            throw ValidationError("--count must be in 1...\(Sample.maxCount), got \(count)")
        }
        if let c = columns, c < 1 { throw ValidationError("--columns must be at least 1, got \(c)") }
        let ext = URL(fileURLWithPath: out).pathExtension.lowercased()
        if ext != "png" && ext != "npy" { throw ValidationError("--out must end in .png or .npy, got '\(out)'") }
    }

    func run() throws {
        let dir = try Sample.resolveCheckpoint(checkpoint, naming: "--checkpoint")
        let model = try LoadedModel.load(checkpoint: dir)
        var rng = Xoshiro256(seed: seed)
        let (samples, gridColumns) = try draw(model, from: dir, rng: &rng)
        let range = model.outputRange
        let side = Int(Double(samples.cols).squareRoot())
        let shape = side * side == samples.cols ? (side, side) : (1, samples.cols)
        let cols = columns ?? gridColumns
        let url = URL(fileURLWithPath: out)
        if url.pathExtension.lowercased() == "npy" {
            // Values, not pictures: from the model's range to the data's [0, 1], then to the
            // data's own units when the loader scaled them (config.json's dataScaling).
            var values = samples.mappingRange(from: range, to: 0...1)
            let scaling = try RunConfig.read(checkpoint: dir).dataScaling
            if let scaling, scaling.low.count == values.cols { scaling.invert(&values) }
            try NPY.write(values, to: url)
            let units = scaling == nil ? "values in [0, 1]" : "in the data's units"
            print("wrote \(samples.rows) samples (\(samples.rows) x \(samples.cols), \(units)) from \(dir.path) to \(url.path)")
            return
        }
        if side * side != samples.cols || samples.cols < 64 {
            // Non-image vectors: a scatter plot (2-D) or a histogram per dimension, over the
            // run's data when it can be read; not a grid of 1-pixel strips.
            let unit = samples.mappingRange(from: range, to: 0...1)
            var data = Matrix(rows: 0, cols: samples.cols)
            if let d = try? RunConfig.read(checkpoint: dir).loadData(), d.sampleSize == samples.cols {
                d.train.gather(ArraySlice(0..<min(d.count, 2000)), scaling: .unit, into: &data)
            }
            if samples.cols == 2 {
                try PNGImage.writeGray(ScatterPlot.pixels(samples: unit, data: data), width: 320, height: 320, to: url)
            } else {
                let size = HistogramPlot.size(dimensions: samples.cols)
                try PNGImage.writeGray(HistogramPlot.pixels(samples: unit, data: data), width: size.width, height: size.height, to: url)
            }
            print("wrote a \(samples.cols == 2 ? "scatter plot" : "histogram per dimension") of \(samples.rows) samples over the data from \(dir.path) to \(url.path)")
            return
        }
        try PNGImage.writeGrid(samples, height: shape.0, width: shape.1, columns: cols,
                               range: range, to: url)
        print("wrote \(samples.rows) samples from \(dir.path) to \(url.path)")
    }

    /// The samples and their default grid width: `--count` of them (of class `--label` for a
    /// conditional model), or a class grid.
    /// - Throws: `CLIError` (exit 64) when the label flags do not fit the model.
    private func draw(_ model: LoadedModel, from dir: URL, rng: inout Xoshiro256) throws -> (Matrix, Int) {
        let square = Int(Double(count).squareRoot().rounded(.up))
        guard let k = model.numClasses else {
            if label != nil || classGrid {
                throw CLIError(ExitStatus.usage, "--label/--class-grid: \(dir.path) holds an unconditional \(model.kind) (trained without --conditional)")
            }
            return (model.sample(count: count, rng: &rng), square)
        }
        if let label {
            guard label < k else { throw CLIError(ExitStatus.usage, "--label \(label): the model knows classes 0-\(k - 1)") }
            return (model.sample(count: count, labels: Array(repeating: Int32(label), count: count), rng: &rng), square)
        }
        guard classGrid else {
            throw CLIError(ExitStatus.usage, "\(dir.path) holds a conditional \(model.kind) of \(k) classes: give --label 0-\(k - 1) or --class-grid")
        }
        let n = countOption ?? 10
        guard n * k <= Sample.maxCount else {
            throw CLIError(ExitStatus.usage, "--count \(n) with --class-grid: \(n) columns x \(k) classes is more than \(Sample.maxCount) samples")
        }
        let noise = Matrix.normal(rows: n, cols: model.latentDim, using: &rng)
        switch model {
        case .gan(let g): return (g.classGrid(noise: noise), n)
        case .vae(let v): return (v.classGrid(noise: noise), n)
        }
    }

    /// A checkpoint directory as given, or the newest one of a run directory.
    /// - Parameter naming: how messages name the path: the flag (`--checkpoint`) or argument.
    /// - Throws: `CLIError`: exit 66 when `path` does not exist, 65 when it is a file or holds
    ///   no checkpoint.
    static func resolveCheckpoint(_ path: String, naming: String) throws -> URL {
        let url = URL(fileURLWithPath: path)
        try InputPaths.requireDirectory(url, flag: naming)
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("state.json").path) { return url }
        if let newest = Checkpoint.list(in: url.appendingPathComponent("checkpoints")).last { return newest }
        throw CLIError(ExitStatus.dataError, "\(naming) \(path): neither a checkpoint directory (state.json) nor a run directory with checkpoints/")
    }
}
