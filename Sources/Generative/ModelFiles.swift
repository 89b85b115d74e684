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
        let tensors = try files.map { try read($0.stem, for: $0.entries, in: directory) }
        for (f, t) in zip(files, tensors) { try loadStateDict(t, into: f.entries) }
    }

    /// `directory/stem.safetensors`, checked to fit `entries` exactly (nothing is loaded).
    /// - Throws: `CheckpointError` naming the file and the problem.
    static func read(_ stem: String, for entries: [StateEntry], in directory: URL) throws -> [String: Matrix] {
        let t = try Checkpoint.readTensors(stem, in: directory)
        do {
            try validateStateDict(t, for: entries)
        } catch {
            throw CheckpointError("\(directory.appendingPathComponent(stem + ".safetensors").path): \(error)")
        }
        return t
    }
}

extension GAN {
    /// Writes `generator.safetensors` and `discriminator.safetensors` into `directory`
    /// (created if needed), loadable by `torch.nn.Sequential(...).load_state_dict` for MLPs;
    /// with a `generatorAverage`, also `generator_ema.safetensors` (the generator's state dict
    /// holding the averaged parameters).
    /// - Throws: `CheckpointError` naming the file.
    public func save(to directory: URL) throws {
        try ModelFiles.save([("generator", generator.stateEntries), ("discriminator", discriminator.stateEntries)],
                            to: directory)
        try generatorAverage?.withAveragedParameters {
            try ModelFiles.save([("generator_ema", generator.stateEntries)], to: directory)
        }
    }

    /// Loads the weights written by `save(to:)` — or a `gen` checkpoint directory — into this
    /// model (its networks must have the same layout), and `generator_ema.safetensors` into the
    /// average when there is one. Nothing changes when it throws.
    /// - Throws: `CheckpointError` naming the file and the missing, unexpected or mis-shaped tensor.
    public func load(from directory: URL) throws {
        // The average's file is read and checked first, so nothing changes when it is missing.
        let average = try generatorAverage.map { _ in
            try ModelFiles.read("generator_ema", for: generator.stateEntries, in: directory)
        }
        try ModelFiles.load([("generator", generator.stateEntries), ("discriminator", discriminator.stateEntries)],
                            from: directory)
        if let average, let a = generatorAverage {
            try a.withAveragedParameters { try loadStateDict(average, into: generator.stateEntries) }
        }
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
