import Foundation
import Generative

/// Everything that defines a run, saved as `config.json` in the run directory and read back by
/// `--resume` and `gen sample`.
struct RunConfig: Codable {
    /// `gan` or `vae`.
    var model: String
    var gan: GANConfig?
    var vae: VAEConfig?
    var epochs: Int
    var batchSize: Int
    var seed: UInt64
    var threads: Int
    /// The data path as given (nil: the repo's data/mnist).
    var data: String?
    var limit: Int?
    var sampleEvery: Int
    var logEvery: Int
    var keepCheckpoints: Int

    func encoded() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try enc.encode(self)
    }

    /// Reads `config.json` of a run directory.
    /// - Throws: `ValidationError` naming the file when it is missing or malformed.
    static func read(runDirectory dir: URL) throws -> RunConfig {
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
    static func read(checkpoint dir: URL) throws -> RunConfig {
        let config = try Checkpoint.readConfig(RunConfig.self, in: dir)
        if let p = config.problem {
            throw RunError("\(dir.appendingPathComponent("config.json").path): invalid run configuration: \(p)")
        }
        return config
    }

    /// Largest layer width or latent size accepted from a file, and largest total weight count:
    /// a hand-edited or corrupt config must not make the model allocate gigabytes.
    static let maxWidth = 1 << 20, maxWeights = 1 << 28
    /// Largest thread count accepted from flags or a file: row-split threading starts one
    /// persistent worker thread per extra thread, so a huge count would exhaust memory.
    static let maxThreads = 256

    /// The first impossible setting, or nil: counts at least 1, the model's own section present
    /// (and the other absent), its settings valid, and sizes within the limits above.
    var problem: String? {
        for (name, v) in [("epochs", epochs), ("batchSize", batchSize), ("threads", threads),
                          ("sampleEvery", sampleEvery), ("logEvery", logEvery),
                          ("keepCheckpoints", keepCheckpoints), ("limit", limit ?? 1)] where v < 1 {
            return "\(name) must be at least 1, got \(v)"
        }
        if threads > RunConfig.maxThreads { return "threads \(threads) exceeds \(RunConfig.maxThreads)" }
        let widths: [Int]
        switch (model, gan, vae) {
        case ("gan", let g?, nil):
            do { try g.validate() } catch { return "gan: \(error)" }
            widths = [g.latentDim] + g.generatorHidden + [g.dataDim] + g.discriminatorHidden + [1]
        case ("vae", nil, let v?):
            do { try v.validate() } catch { return "vae: \(error)" }
            widths = [v.dataDim] + v.hidden + [v.latentDim, v.latentDim] + v.hidden.reversed() + [v.dataDim]
        default:
            return "model must be \"gan\" with a gan section or \"vae\" with a vae section, got \"\(model)\""
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

/// A user-facing failure of a command: printed as one line, exit code 1.
struct RunError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
