import FileIO
import Foundation
import Generative
import Linalg
import NN

/// PyTorch's shapes for the names it knows: a `*.bias` stored as a `1 x n` row is `[n]`, as
/// `nn.Linear.bias`, so `load_state_dict` accepts the file (reading turns it back into `1 x n`).
func pytorchShapes(_ tensors: Checkpoint.Tensors) -> [String: [Int]] {
    var shapes: [String: [Int]] = [:]
    for (name, t) in tensors where name.hasSuffix(".bias") && t.rows == 1 { shapes[name] = [t.cols] }
    return shapes
}

extension Checkpoint {
    /// Writes `files` (file stem -> tensors), the JSON `config` and `state` into `directory`.
    ///
    /// Every file is written atomically (FileIO's `AtomicFile`: temp file, fsync, rename) into
    /// the hidden `.tmp-<name>` directory, which is then renamed to `directory` and the parent
    /// fsynced. A process killed at any moment leaves either no `directory` or a complete one.
    /// - Throws: `CheckpointError` naming the file or directory and the failing system call
    ///   (e.g. `No space left on device`); the previous checkpoints are left untouched.
    /// `shapes` gives PyTorch's shapes by file stem and tensor name (`TrainingJob.checkpointShapes`);
    /// other tensors get `pytorchShapes`.
    public static func write(files: [(stem: String, tensors: Tensors)], config: Data,
                             state: TrainingState, to directory: URL,
                             shapes: [String: [String: [Int]]] = [:]) throws {
        let fm = FileManager.default
        let parent = directory.deletingLastPathComponent()
        let tmp = parent.appendingPathComponent(".tmp-" + directory.lastPathComponent)
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            try? fm.removeItem(at: tmp)
            try fm.createDirectory(at: tmp, withIntermediateDirectories: false)
        } catch {
            throw CheckpointError("\(tmp.path): cannot create the checkpoint directory: \(SystemErrorText.describe(error, path: tmp.path))")
        }
        do {
            for f in files {
                try SafeTensors.write(f.tensors, metadata: ["format": "pt"],
                                      to: tmp.appendingPathComponent(f.stem + ".safetensors"),
                                      shapes: pytorchShapes(f.tensors).merging(shapes[f.stem] ?? [:]) { $1 })
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
}
