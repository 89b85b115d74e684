import Foundation

/// Crash-safe file replacement: the data goes to a temporary file in the destination's directory,
/// is flushed with `fsync`, and is then renamed over the destination (`rename(2)` is atomic on
/// one file system), so readers see either the old file or the complete new one, never a
/// half-written one.
public enum AtomicFile {
    /// Writes `data` to `url` atomically (temp file in the same directory, fsync, rename).
    /// - Throws: `DatasetError` naming `url.path` and the failing system call (`errno` text),
    ///   e.g. when the directory does not exist or is not writable. The temp file is removed on
    ///   failure.
    public static func write(_ data: Data, to url: URL) throws {
        let path = url.path
        let dir = url.deletingLastPathComponent().path
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw sysError(path, "cannot create temporary file in \(dir)") }
        var ok = false
        defer {
            if !ok { unlink(tmp) }
        }
        do {
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                var done = 0
                while done < raw.count {
                    let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw sysError(path, "write failed")
                    }
                    done += n
                }
            }
            guard fsync(fd) == 0 else { throw sysError(path, "fsync failed") }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw sysError(path, "close failed") }
        guard rename(tmp, path) == 0 else { throw sysError(path, "rename failed") }
        ok = true
        // Make the rename itself durable; best effort (some file systems refuse fsync on a dir).
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    static func sysError(_ path: String, _ what: String) -> DatasetError {
        DatasetError(path: path, problem: "\(what): \(String(cString: strerror(errno)))")
    }
}
