import Foundation

/// A file that could not be written; `description` is `"<path>: <problem>"` with the failing
/// system call and its `errno` text, e.g. `runs/a/metrics.csv: write failed: No space left on device`.
public struct FileIOError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The destination file (as given by the caller's URL path).
    public let path: String
    /// What failed.
    public let problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

/// Crash-safe file replacement, the one implementation every module uses: the bytes go to a
/// temporary file in the destination's directory (`.<name>.tmp-<pid>-<random>`), which is
/// flushed with `fsync`, closed, and renamed over the destination; then the directory is
/// fsynced so the rename itself survives a power loss. `rename(2)` is atomic on one file
/// system, so a reader (or a process killed at any moment) sees the old file or the complete
/// new one, never a half-written one. On failure the temporary file is removed and the old
/// destination is untouched.
public enum AtomicFile {
    /// Sequential writer over the temporary file, handed to `write(to:_:)`'s body.
    public struct Writer {
        let fd: Int32
        let path: String

        /// Writes every byte of `bytes` (retrying short writes and `EINTR`).
        /// - Throws: `FileIOError` naming the destination, e.g. on a full disk (`ENOSPC`).
        public func write(_ bytes: UnsafeRawBufferPointer) throws {
            guard var p = bytes.baseAddress else { return }
            var left = bytes.count
            while left > 0 {
                let n = Foundation.write(fd, p, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw AtomicFile.error(path, "write failed")
                }
                p += n
                left -= n
            }
        }

        /// Writes `data`.
        public func write(_ data: Data) throws {
            try data.withUnsafeBytes { try write($0) }
        }
    }

    /// Writes `data` to `url` atomically.
    /// - Throws: `FileIOError` naming `url.path` and the failing call (create, write, fsync,
    ///   close, rename), e.g. when the directory does not exist, is read-only or the disk is full.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { try $0.write(data) }
    }

    /// Creates the temporary file, lets `body` write it, then syncs and renames it over `url`.
    /// - Throws: `FileIOError` as `write(_:to:)`, or whatever `body` throws (the temporary file
    ///   is removed and `url` left untouched in both cases).
    public static func write(to url: URL, _ body: (Writer) throws -> Void) throws {
        let path = url.path
        let dirURL = url.deletingLastPathComponent()
        let dir = dirURL.path.isEmpty ? "." : dirURL.path
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw error(path, "cannot create a temporary file in \(dir)") }
        var open = true
        do {
            try body(Writer(fd: fd, path: path))
            guard fsync(fd) == 0 else { throw error(path, "fsync failed") }
            open = false
            guard close(fd) == 0 else { throw error(path, "close failed") }
            guard rename(tmp, path) == 0 else { throw error(path, "cannot rename the temporary file into place") }
        } catch {
            if open { close(fd) }
            unlink(tmp)
            throw error
        }
        syncDirectory(dir)
    }

    /// Fsyncs a directory so renames inside it are durable. Best effort: some file systems
    /// refuse fsync on a directory, and the file itself is already complete.
    public static func syncDirectory(_ path: String) {
        let dfd = open(path.isEmpty ? "." : path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    static func error(_ path: String, _ what: String) -> FileIOError {
        FileIOError(path: path, problem: "\(what): \(String(cString: strerror(errno)))")
    }
}
