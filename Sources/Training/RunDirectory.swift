import FileIO
import Foundation
import Generative

/// A run directory: `config.json`, `metrics.csv`, `samples/`, and `checkpoints/step-NNNNNNNN/`
/// (each a complete `Checkpoint`, written atomically; the newest `keepCheckpoints` are kept).
public struct RunDirectory: Sendable {
    public let url: URL

    public init(_ url: URL) { self.url = url }

    public var checkpoints: URL { url.appendingPathComponent("checkpoints") }
    public var samples: URL { url.appendingPathComponent("samples") }
    public var metrics: URL { url.appendingPathComponent("metrics.csv") }
    public var config: URL { url.appendingPathComponent("config.json") }

    /// The newest complete checkpoint, or nil.
    public var newestCheckpoint: URL? { Checkpoint.list(in: checkpoints).last }

    /// Creates the directory with `samples/` and `checkpoints/`; for a new run (`resuming`
    /// false) writes `config.json`, refusing a directory that already holds a run with
    /// checkpoints. A directory whose run stopped before its first checkpoint may be reused.
    /// - Throws: `RunDirectoryError`; nothing is written when the directory is refused.
    public func prepare(config: RunConfig, resuming: Bool) throws {
        try validate(resuming: resuming)
        try create(config: config, resuming: resuming)
    }

    /// The checks of `prepare` alone (nothing written): not a file, and for a new run no run
    /// with checkpoints already there.
    /// - Throws: `RunDirectoryError.notADirectory`, `.holdsARun`.
    public func validate(resuming: Bool) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue {
            throw RunDirectoryError.notADirectory(url)
        }
        if !resuming && fm.fileExists(atPath: self.config.path) && newestCheckpoint != nil {
            throw RunDirectoryError.holdsARun(url)
        }
    }

    /// The writes of `prepare`: the directories, and config.json for a new run.
    private func create(config: RunConfig, resuming: Bool) throws {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: samples, withIntermediateDirectories: true)
            try fm.createDirectory(at: checkpoints, withIntermediateDirectories: true)
        } catch {
            throw RunDirectoryError.cannotCreate(url, SystemErrorText.describe(error, path: samples.path))
        }
        guard !resuming else { return }
        do {
            try AtomicFile.write(config.encoded(), to: self.config)
        } catch {
            throw RunDirectoryError.cannotWriteConfig(url, "\(error)")
        }
    }

    /// Repairs what a killed checkpoint writer left (`Checkpoint.recover`), then reads the
    /// newest checkpoint's state: where a resumed run continues.
    /// - Throws: `RunError` when there is no checkpoint; `CheckpointError` naming state.json.
    public func resumePoint() throws -> (checkpoint: URL, state: TrainingState) {
        Checkpoint.recover(in: checkpoints)
        guard let latest = newestCheckpoint else {
            throw RunError("\(checkpoints.path): no checkpoint to resume from")
        }
        return (latest, try Checkpoint.readState(in: latest))
    }

    /// Writes checkpoint `step-<state.step>` of `job` with `config` and `state`.
    /// - Returns: the checkpoint directory.
    /// - Throws: `FileIOError` naming the checkpoint directory and the cause (a write failure,
    ///   e.g. a full disk); older checkpoints are untouched.
    @discardableResult
    public func saveCheckpoint(_ job: any TrainingJob, state: TrainingState, config: RunConfig) throws -> URL {
        let target = checkpointURL(step: state.step)
        do {
            try Checkpoint.write(files: job.checkpointFiles(), config: config.encoded(), state: state, to: target,
                                 shapes: job.checkpointShapes)
        } catch {
            throw FileIOError(path: target.path, problem: "cannot write checkpoint: \(SystemErrorText.describe(error))")
        }
        return target
    }

    /// Removes all but the newest `keep` checkpoints (`Checkpoint.prune`).
    /// The checkpoint directory of step `step`: `checkpoints/step-00001234`.
    public func checkpointURL(step: Int) -> URL {
        checkpoints.appendingPathComponent(String(format: "step-%08d", step))
    }

    public func prune(keep: Int) { Checkpoint.prune(in: checkpoints, keep: keep) }

    /// `runs/<model>-<UTC date>-<time>` (relative to the current directory).
    public static func defaultPath(model: String) -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        f.timeZone = TimeZone(identifier: "UTC")
        return "runs/\(model)-\(f.string(from: Date()))"
    }
}

/// A run directory that cannot be used; each case names the directory.
public enum RunDirectoryError: Error, CustomStringConvertible, Sendable {
    /// The path exists and is a file.
    case notADirectory(URL)
    /// The directory (or its samples/ or checkpoints/) cannot be created: the system's reason.
    case cannotCreate(URL, String)
    /// A new run was asked for in a directory holding a run with checkpoints.
    case holdsARun(URL)
    /// config.json cannot be written: the reason.
    case cannotWriteConfig(URL, String)

    public var directory: URL {
        switch self {
        case .notADirectory(let u), .cannotCreate(let u, _), .holdsARun(let u), .cannotWriteConfig(let u, _): return u
        }
    }

    public var description: String {
        switch self {
        case .notADirectory(let u): return "\(u.path): exists and is not a directory"
        case .cannotCreate(let u, let why): return "\(u.path): cannot create the run directory: \(why)"
        case .holdsARun(let u): return "\(u.path): already holds a run (resume it, or use another directory)"
        case .cannotWriteConfig(let u, let why): return "\(u.path): \(why)"
        }
    }
}
