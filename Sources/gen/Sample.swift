import ArgumentParser
import Datasets
import Foundation
import Generative
import Linalg
import Training

/// `gen sample`: a grid of samples from a trained model.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a PNG grid of samples from a checkpoint (a checkpoint directory, or a run directory for its newest).")

    @Option(help: "A checkpoint directory (runs/X/checkpoints/step-N) or a run directory.")
    var checkpoint: String
    /// Largest `--count`: a 256 x 256 grid.
    static let maxCount = 1 << 16

    @Option(parsing: .unconditional, help: "Number of samples (at most 65536).")
    var count: Int = 64
    @Option(help: "Output PNG file.")
    var out: String = "grid.png"
    @Option(parsing: .unconditional, help: "Seed of the noise.")
    var seed: UInt64 = 1
    @Option(parsing: .unconditional, help: "Images per grid row. Default: the square root of --count, rounded up.")
    var columns: Int?

    func validate() throws {
        // The upper bound keeps the samples (count x 784 floats) and the grid allocatable.
        if count < 1 || count > Sample.maxCount {
            throw ValidationError("--count must be in 1...\(Sample.maxCount), got \(count)")
        }
        if let c = columns, c < 1 { throw ValidationError("--columns must be at least 1, got \(c)") }
    }

    func run() throws {
        let dir = try Sample.resolveCheckpoint(checkpoint, naming: "--checkpoint")
        let model = try LoadedModel.load(checkpoint: dir)
        var rng = Xoshiro256(seed: seed)
        let samples = model.sample(count: count, rng: &rng)
        let range = model.outputRange
        let side = Int(Double(samples.cols).squareRoot())
        let shape = side * side == samples.cols ? (side, side) : (1, samples.cols)
        let cols = columns ?? Int(Double(count).squareRoot().rounded(.up))
        let url = URL(fileURLWithPath: out)
        try PNGImage.writeGrid(samples, height: shape.0, width: shape.1, columns: cols,
                               range: range, to: url)
        print("wrote \(count) samples from \(dir.path) to \(url.path)")
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
