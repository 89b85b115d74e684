import FileIO
import Foundation
import Linalg
import NN

/// One-call saving and loading of a model's weights as PyTorch-loadable safetensors files in a
/// directory, in the layout of `gen`'s checkpoints (so a checkpoint directory loads as it is).
enum ModelFiles {
    /// Writes each `(stem, entries)` as `directory/stem.safetensors` (atomically, PyTorch shapes),
    /// creating the directory.
    /// - Throws: `CheckpointError` naming the file when it cannot be written.
    static func save(_ files: [(stem: String, entries: [StateEntry])], to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw CheckpointError("\(directory.path): cannot create the directory: \(SystemErrorText.describe(error, path: directory.path))")
        }
        for f in files {
            try SafeTensors.write(stateDict(f.entries), metadata: ["format": "pt"],
                                  to: directory.appendingPathComponent(f.stem + ".safetensors"),
                                  shapes: stateDictShapes(f.entries))
        }
    }

    /// Reads every file first, then loads them, so nothing changes when any file is missing,
    /// malformed or does not fit.
    /// - Throws: `CheckpointError` naming the file and the problem.
    static func load(_ files: [(stem: String, entries: [StateEntry])], from directory: URL) throws {
        let tensors = try files.map { try Checkpoint.readTensors($0.stem, in: directory) }
        for (f, t) in zip(files, tensors) {
            do {
                try validateStateDict(t, for: f.entries)
            } catch {
                throw CheckpointError("\(directory.appendingPathComponent(f.stem + ".safetensors").path): \(error)")
            }
        }
        for (f, t) in zip(files, tensors) { try loadStateDict(t, into: f.entries) }
    }
}

extension GAN {
    /// Writes `generator.safetensors` and `discriminator.safetensors` into `directory`
    /// (created if needed), loadable by `torch.nn.Sequential(...).load_state_dict` for MLPs.
    /// - Throws: `CheckpointError` naming the file.
    public func save(to directory: URL) throws {
        try ModelFiles.save([("generator", generator.stateEntries), ("discriminator", discriminator.stateEntries)],
                            to: directory)
    }

    /// Loads the weights written by `save(to:)` — or a `gen` checkpoint directory — into this
    /// model (its networks must have the same layout). Nothing changes when it throws.
    /// - Throws: `CheckpointError` naming the file and the missing, unexpected or mis-shaped tensor.
    public func load(from directory: URL) throws {
        try ModelFiles.load([("generator", generator.stateEntries), ("discriminator", discriminator.stateEntries)],
                            from: directory)
    }
}

extension VAE {
    /// Writes `model.safetensors` (names `encoder.0.weight`, `mu.0.weight`, …) into `directory`.
    /// - Throws: `CheckpointError` naming the file.
    public func save(to directory: URL) throws {
        try ModelFiles.save([("model", stateEntries)], to: directory)
    }

    /// Loads the weights written by `save(to:)` — or a `gen` checkpoint directory — into this
    /// model. Nothing changes when it throws.
    /// - Throws: `CheckpointError` naming the file and the problem.
    public func load(from directory: URL) throws {
        try ModelFiles.load([("model", stateEntries)], from: directory)
    }
}
