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
        do {
            return try JSONDecoder().decode(RunConfig.self, from: data)
        } catch {
            throw RunError("\(url.path): malformed run configuration: \(error)")
        }
    }
}

/// A user-facing failure of a command: printed as one line, exit code 1.
struct RunError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
