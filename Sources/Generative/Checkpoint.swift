import FileIO
import Foundation
import Linalg
import NN

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

/// A checkpoint directory: one safetensors file per network plus `optimizer.safetensors`,
/// `state.json` and `config.json`.
///
/// Written into a hidden temporary directory beside the target and renamed into place, so a
/// checkpoint directory on disk is always complete: an interrupted write leaves only the
/// temporary directory, which is ignored and removed by the next write.
public enum Checkpoint {
    /// One file of a checkpoint: named tensors (`name.safetensors`).
    public typealias Tensors = [(name: String, tensor: Matrix)]

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
