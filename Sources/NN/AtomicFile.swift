import Foundation

/// Writes a file atomically: a temporary file in the same directory, fsynced, then renamed
/// over the target (and the directory fsynced), so readers see the old file or the new one,
/// never half of one. The temporary file is removed on failure.
enum AtomicFile {
    static func write(to url: URL, _ body: (Int32) throws -> Void) throws {
        let path = url.path
        let dir = url.deletingLastPathComponent().path
        let tmp = dir + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func ioError(_ what: String) -> SafeTensorsError {
            SafeTensorsError(kind: .io, path: path, message: "\(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ioError("cannot create \(tmp)") }
        var closed = false
        do {
            try body(fd)
            guard fsync(fd) == 0 else { throw ioError("fsync failed") }
            closed = true
            guard close(fd) == 0 else { throw ioError("close failed") }
            guard rename(tmp, path) == 0 else { throw ioError("cannot rename \(tmp) to \(path)") }
        } catch {
            if !closed { close(fd) }
            unlink(tmp)
            throw error
        }
        // Make the rename itself durable; failure here does not undo a complete file.
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }

    /// Writes every byte of `buffer` (retrying short writes and EINTR).
    static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        guard var p = buffer.baseAddress else { return }
        var left = buffer.count
        while left > 0 {
            let w = Foundation.write(fd, p, left)
            if w < 0 {
                if errno == EINTR { continue }
                throw SafeTensorsError(kind: .io, path: path, message: "write failed: \(String(cString: strerror(errno)))")
            }
            p += w
            left -= w
        }
    }
}
