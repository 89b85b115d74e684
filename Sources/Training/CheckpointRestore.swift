import Foundation
import Generative
import Linalg

extension Checkpoint {
    /// Reads `stem.safetensors` of checkpoint `dir` and applies `body` to its tensors (e.g. a
    /// model's `loadStateDict`).
    /// - Throws: `CheckpointError` naming the file, for a missing or malformed file or an
    ///   error of `body` (a shape that does not fit the model).
    public static func load(_ stem: String, in dir: URL, _ body: ([String: Matrix]) throws -> Void) throws {
        let tensors = try readTensors(stem, in: dir)
        do {
            try body(tensors)
        } catch {
            throw CheckpointError("\(dir.appendingPathComponent(stem + ".safetensors").path): \(error)")
        }
    }
}

/// The saved step count of optimiser `name` (Adam's bias correction depends on it), or an error
/// naming state.json when it is missing: defaulting to 0 would silently change the run.
func optimizerSteps(_ state: TrainingState, _ name: String, in dir: URL) throws -> Int {
    guard let n = state.optimizerSteps[name] else {
        throw CheckpointError("\(dir.appendingPathComponent("state.json").path): optimizerSteps has no \"\(name)\" entry")
    }
    return n
}

/// A generator from saved state words, or an error naming the checkpoint when they are invalid.
func generator(_ words: [UInt64], in dir: URL) throws -> Xoshiro256 {
    guard words.count == 4 && words.contains(where: { $0 != 0 }) else {
        throw CheckpointError("\(dir.appendingPathComponent("state.json").path): invalid generator state \(words)")
    }
    return Xoshiro256(stateWords: words)
}
