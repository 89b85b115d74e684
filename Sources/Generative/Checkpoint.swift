import FileIO
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

extension TrainingState {
    /// The first impossible value, or nil: counts must be non-negative and each generator
    /// state 4 words, not all zero (Xoshiro256's one invalid state).
    public var problem: String? {
        if epoch < 0 { return "epoch \(epoch) < 0" }
        if batchInEpoch < 0 { return "batchInEpoch \(batchInEpoch) < 0" }
        if step < 0 { return "step \(step) < 0" }
        for (name, words) in [("noiseRNG", noiseRNG), ("dataRNG", dataRNG)]
        where words.count != 4 || words.allSatisfy({ $0 == 0 }) {
            return "\(name) must be 4 words, not all zero, got \(words)"
        }
        if let (k, v) = optimizerSteps.first(where: { $0.value < 0 }) { return "optimizerSteps[\(k)] \(v) < 0" }
        return nil
    }
}

/// A decoding failure as one line naming the field (`localizedDescription` does not).
public func describeDecoding(_ error: Error) -> String {
    func path(_ c: DecodingError.Context) -> String {
        c.codingPath.isEmpty ? "" : c.codingPath.map(\.stringValue).joined(separator: ".") + ": "
    }
    switch error {
    case DecodingError.dataCorrupted(let c): return path(c) + c.debugDescription
    case DecodingError.keyNotFound(let k, let c): return path(c) + "missing field \(k.stringValue)"
    case DecodingError.typeMismatch(_, let c): return path(c) + c.debugDescription
    case DecodingError.valueNotFound(_, let c): return path(c) + c.debugDescription
    default: return error.localizedDescription
    }
}

/// A malformed or mismatched checkpoint; the message names the file and the problem.
public struct CheckpointError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// PyTorch's shapes for the names it knows: a `*.bias` stored as a `1 x n` row is `[n]`, as
/// `nn.Linear.bias`, so `load_state_dict` accepts the file (reading turns it back into `1 x n`).
func pytorchShapes(_ tensors: Checkpoint.Tensors) -> [String: [Int]] {
    var shapes: [String: [Int]] = [:]
    for (name, t) in tensors where name.hasSuffix(".bias") && t.rows == 1 { shapes[name] = [t.cols] }
    return shapes
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
    ///
    /// Every file is written atomically (FileIO's `AtomicFile`: temp file, fsync, rename) into
    /// the hidden `.tmp-<name>` directory, which is then renamed to `directory` and the parent
    /// fsynced. A process killed at any moment leaves either no `directory` or a complete one.
    /// - Throws: `CheckpointError` naming the file or directory and the failing system call
    ///   (e.g. `No space left on device`); the previous checkpoints are left untouched.
    public static func write(files: [(stem: String, tensors: Tensors)], config: Data,
                             state: TrainingState, to directory: URL) throws {
        let fm = FileManager.default
        let parent = directory.deletingLastPathComponent()
        let tmp = parent.appendingPathComponent(".tmp-" + directory.lastPathComponent)
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            try? fm.removeItem(at: tmp)
            try fm.createDirectory(at: tmp, withIntermediateDirectories: false)
        } catch {
            throw CheckpointError("\(tmp.path): cannot create the checkpoint directory: \(error.localizedDescription)")
        }
        do {
            for f in files {
                try SafeTensors.write(f.tensors, metadata: ["format": "pt"],
                                      to: tmp.appendingPathComponent(f.stem + ".safetensors"),
                                      shapes: pytorchShapes(f.tensors))
            }
            try AtomicFile.write(config, to: tmp.appendingPathComponent("config.json"))
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try enc.encode(state), to: tmp.appendingPathComponent("state.json"))
            if fm.fileExists(atPath: directory.path) {
                // Replacing an existing checkpoint (a resumed run reaching the same step): move
                // it aside first, then drop it. `recover` restores it if killed in between.
                let old = parent.appendingPathComponent(".old-" + directory.lastPathComponent)
                try? fm.removeItem(at: old)
                try move(directory, to: old)
                try move(tmp, to: directory)
                try? fm.removeItem(at: old)
            } else {
                try move(tmp, to: directory)
            }
            AtomicFile.syncDirectory(parent.path)
        } catch {
            try? fm.removeItem(at: tmp)
            throw error
        }
    }

    /// `rename(2)`, throwing a `CheckpointError` naming both paths.
    private static func move(_ from: URL, to: URL) throws {
        guard rename(from.path, to.path) == 0 else {
            throw CheckpointError("\(to.path): cannot rename \(from.lastPathComponent) into place: \(String(cString: strerror(errno)))")
        }
    }

    /// The tensors whose names start with `prefix`, with the prefix removed (one network's
    /// or one optimiser's part of a file that holds several).
    public static func tensors(_ all: [String: Matrix], withPrefix prefix: String) -> [String: Matrix] {
        var out: [String: Matrix] = [:]
        for (k, v) in all where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = v }
        return out
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
        } catch let e as SafeTensorsError {
            throw CheckpointError(e.description)   // already "<path>: <problem>"
        } catch {
            throw CheckpointError("\(url.path): \(error)")
        }
    }

    /// Reads `state.json` from a checkpoint directory.
    /// - Throws: `CheckpointError` naming the file when it is missing, not JSON of this shape
    ///   (the message names the field), or holds impossible values (negative counts, generator
    ///   states that are not 4 words or all zero).
    public static func readState(in directory: URL) throws -> TrainingState {
        let url = directory.appendingPathComponent("state.json")
        let state: TrainingState
        do {
            state = try JSONDecoder().decode(TrainingState.self, from: Data(contentsOf: url))
        } catch {
            throw CheckpointError("\(url.path): cannot read training state: \(describeDecoding(error))")
        }
        if let problem = state.problem {
            throw CheckpointError("\(url.path): invalid training state: \(problem)")
        }
        return state
    }

    /// Reads `config.json` from a checkpoint directory as `T`.
    public static func readConfig<T: Decodable>(_ type: T.Type, in directory: URL) throws -> T {
        let url = directory.appendingPathComponent("config.json")
        do {
            return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
        } catch {
            throw CheckpointError("\(url.path): cannot read model config: \(describeDecoding(error))")
        }
    }

    /// The checkpoint directories `step-NNNNNNNN` under `checkpoints`, oldest first. Hidden
    /// directories (`.tmp-*` being written, `.del-*` being removed, `.old-*` being replaced)
    /// are not checkpoints.
    public static func list(in checkpoints: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path)) ?? []
        return names.filter { $0.hasPrefix("step-") && Int($0.dropFirst(5)) != nil }
            .sorted()
            .map { checkpoints.appendingPathComponent($0) }
    }

    /// Repairs what a killed writer can leave behind; call before resuming, with no writer
    /// running: a `.old-step-N` without its `step-N` (killed between the two renames of a
    /// replacement) is renamed back, and the other hidden leftovers are removed.
    public static func recover(in checkpoints: URL) {
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: checkpoints.path)) ?? []
        for old in names where old.hasPrefix(".old-step-") {
            let name = String(old.dropFirst(5))
            if !names.contains(name) {
                _ = rename(checkpoints.appendingPathComponent(old).path, checkpoints.appendingPathComponent(name).path)
            }
        }
        for n in names where n.hasPrefix(".tmp-step-") || n.hasPrefix(".del-step-") || n.hasPrefix(".old-step-") {
            try? fm.removeItem(at: checkpoints.appendingPathComponent(n))
        }
    }

    /// Removes all but the newest `keep` checkpoints. Each is first renamed to a hidden
    /// `.del-` name (atomic), so a process killed while deleting never leaves a partial
    /// `step-N` directory that looks like a checkpoint.
    public static func prune(in checkpoints: URL, keep: Int) {
        let all = list(in: checkpoints)
        for url in all.dropLast(keep) {
            let doomed = checkpoints.appendingPathComponent(".del-" + url.lastPathComponent)
            try? FileManager.default.removeItem(at: doomed)
            guard rename(url.path, doomed.path) == 0 else { continue }
            try? FileManager.default.removeItem(at: doomed)
        }
    }
}
