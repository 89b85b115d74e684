import Foundation
import Linalg
import NN

/// Training state saved beside the weights so a run can resume exactly where it stopped.
public struct TrainingState: Codable, Sendable, Equatable {
    /// `gan` or `vae`.
    public var model: String
    /// Completed epochs.
    public var epoch: Int
    /// Batches already trained in epoch `epoch + 1` (0 at an epoch boundary).
    public var batchInEpoch: Int
    /// Completed optimisation steps (trainer steps).
    public var step: Int
    /// State words of the trainer's noise generator (z or eps).
    public var noiseRNG: [UInt64]
    /// State words of the data-order (shuffling) generator at the start of epoch `epoch + 1`,
    /// before its shuffle: replaying the shuffle restores that epoch's order exactly.
    public var dataRNG: [UInt64]
    /// Step counts of the optimisers, by name (`generator`, `discriminator`, `vae`).
    public var optimizerSteps: [String: Int]

    public init(model: String, epoch: Int, batchInEpoch: Int, step: Int, noiseRNG: [UInt64],
                dataRNG: [UInt64], optimizerSteps: [String: Int]) {
        self.model = model
        self.epoch = epoch
        self.batchInEpoch = batchInEpoch
        self.step = step
        self.noiseRNG = noiseRNG
        self.dataRNG = dataRNG
        self.optimizerSteps = optimizerSteps
    }
}

/// A malformed or mismatched checkpoint; the message names the file and the problem.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A checkpoint directory: one safetensors file per network plus `optimizer.safetensors`,
/// `state.json` and `config.json`.
///
/// Written into a hidden temporary directory beside the target and renamed into place, so a
/// checkpoint directory on disk is always complete: an interrupted write leaves only the
/// temporary directory, which is ignored and removed by the next write.
public enum Checkpoint {
    /// One file of a checkpoint: named tensors (`name.safetensors`).
    public typealias Tensors = [(name: String, tensor: Matrix)]

    /// Writes `files` (file stem -> tensors), the JSON `config` and `state` into `directory`.
    /// - Throws: file-system errors (the previous checkpoint is left untouched).
    public static func write(files: [(stem: String, tensors: Tensors)], config: Data,
                             state: TrainingState, to directory: URL) throws {
        let fm = FileManager.default
        let parent = directory.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        let tmp = parent.appendingPathComponent(".tmp-" + directory.lastPathComponent)
        try? fm.removeItem(at: tmp)
        try fm.createDirectory(at: tmp, withIntermediateDirectories: false)
        do {
            for f in files {
                try SafeTensors.write(f.tensors, metadata: ["format": "pt"],
                                      to: tmp.appendingPathComponent(f.stem + ".safetensors"))
            }
            try writeFileSynced(config, to: tmp.appendingPathComponent("config.json"))
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try writeFileSynced(try enc.encode(state), to: tmp.appendingPathComponent("state.json"))
            if fm.fileExists(atPath: directory.path) {
                // Replacing an existing checkpoint: move it aside first, then drop it.
                let old = parent.appendingPathComponent(".old-" + directory.lastPathComponent)
                try? fm.removeItem(at: old)
                try fm.moveItem(at: directory, to: old)
                try fm.moveItem(at: tmp, to: directory)
                try? fm.removeItem(at: old)
            } else {
                try fm.moveItem(at: tmp, to: directory)
            }
        } catch {
            try? fm.removeItem(at: tmp)
            throw error
        }
    }

    /// Reads `stem.safetensors` from a checkpoint directory.
    /// - Throws: `CheckpointError` naming the file when it is missing or malformed.
    public static func readTensors(_ stem: String, in directory: URL) throws -> [String: Matrix] {
        let url = directory.appendingPathComponent(stem + ".safetensors")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CheckpointError("\(url.path): missing")
        }
        do {
            return try SafeTensors.read(from: url).tensors
        } catch {
            throw CheckpointError("\(url.path): \(error)")
        }
    }

    /// Reads `state.json` from a checkpoint directory.
    public static func readState(in directory: URL) throws -> TrainingState {
        let url = directory.appendingPathComponent("state.json")
        do {
            return try JSONDecoder().decode(TrainingState.self, from: Data(contentsOf: url))
        } catch {
            throw CheckpointError("\(url.path): cannot read training state: \(error.localizedDescription)")
        }
    }

    /// Reads `config.json` from a checkpoint directory as `T`.
    public static func readConfig<T: Decodable>(_ type: T.Type, in directory: URL) throws -> T {
        let url = directory.appendingPathComponent("config.json")
        do {
            return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
        } catch {
            throw CheckpointError("\(url.path): cannot read model config: \(error.localizedDescription)")
        }
    }

    /// The checkpoint directories `step-NNNNNNNN` under `checkpoints`, oldest first.
    public static func list(in checkpoints: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path)) ?? []
        return names.filter { $0.hasPrefix("step-") && Int($0.dropFirst(5)) != nil }
            .sorted()
            .map { checkpoints.appendingPathComponent($0) }
    }

    /// Removes all but the newest `keep` checkpoints.
    public static func prune(in checkpoints: URL, keep: Int) {
        let all = list(in: checkpoints)
        for url in all.dropLast(keep) { try? FileManager.default.removeItem(at: url) }
    }
}

/// Writes `data` to `url` through a temporary file in the same directory, fsync, rename.
func writeFileSynced(_ data: Data, to url: URL) throws {
    let tmp = url.deletingLastPathComponent()
        .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
        throw CheckpointError("\(url.path): cannot create file")
    }
    do {
        let h = try FileHandle(forWritingTo: tmp)
        try h.write(contentsOf: data)
        try h.synchronize()
        try h.close()
        if rename(tmp.path, url.path) != 0 {
            throw CheckpointError("\(url.path): cannot rename into place: \(String(cString: strerror(errno)))")
        }
    } catch {
        try? FileManager.default.removeItem(at: tmp)
        throw error
    }
}
