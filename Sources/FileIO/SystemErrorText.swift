import Foundation

/// One-line causes for file-system errors, in the words of `strerror` ("No such file or
/// directory", "Permission denied", "Read-only file system", "No space left on device"), so
/// messages read `<path>: cannot write: Permission denied` rather than Foundation's
/// "The operation could not be completed. (NSCocoaErrorDomain error 512.)" or
/// "Error Domain=NSCocoaErrorDomain Code=642 …".
public enum SystemErrorText {
    /// The cause of `error` as one short phrase without the path.
    ///
    /// Order: a `FileIOError`'s problem; the first POSIX code found in the error or its chain of
    /// underlying errors (`NSUnderlyingErrorKey`), as `strerror` text; a known `CocoaError` file
    /// code; then, for a failure about `path` that names no cause (Foundation's
    /// `fileWriteUnknown`, code 512), a look at the path itself: an ancestor that is a file,
    /// or the nearest existing ancestor not writable. Last, the error's own description.
    /// - Parameter path: the file or directory the failed operation was about, if known.
    public static func describe(_ error: Error, path: String? = nil) -> String {
        if let e = error as? FileIOError { return e.problem }
        if let code = posixCode(error) { return String(cString: strerror(code)) }
        if let known = cocoaText(error) { return known }
        if let path, let found = inspect(path) { return found }
        if let cocoa = error as? CocoaError { return "file system error \(cocoa.code.rawValue)" }
        return String(describing: error)
    }

    /// The POSIX `errno` value carried by `error` or an error it wraps.
    static func posixCode(_ error: Error) -> Int32? {
        if let p = error as? POSIXError { return p.code.rawValue }
        var current: NSError? = error as NSError
        var depth = 0
        while let e = current, depth < 8 {
            if e.domain == NSPOSIXErrorDomain { return Int32(truncatingIfNeeded: e.code) }
            current = e.userInfo[NSUnderlyingErrorKey] as? NSError
            depth += 1
        }
        return nil
    }

    /// `strerror`-style text for the CocoaError file codes that have a POSIX equivalent.
    static func cocoaText(_ error: Error) -> String? {
        guard let c = error as? CocoaError else { return nil }
        let code: Int32?
        switch c.code {
        case .fileNoSuchFile, .fileReadNoSuchFile: code = ENOENT
        case .fileReadNoPermission, .fileWriteNoPermission: code = EACCES
        case .fileWriteVolumeReadOnly: code = EROFS
        case .fileWriteOutOfSpace: code = ENOSPC
        case .fileWriteFileExists: code = EEXIST
        case .fileReadTooLarge: code = EFBIG
        default: code = nil
        }
        if let code { return String(cString: strerror(code)) }
        if c.code == .fileReadCorruptFile { return "the file is corrupt" }
        if c.code == .fileReadInapplicableStringEncoding || c.code == .fileReadUnknownStringEncoding {
            return "not valid text"
        }
        return nil
    }

    /// Why `path` cannot be created, found by walking up to its nearest existing ancestor.
    static func inspect(_ path: String) -> String? {
        let fm = FileManager.default
        var url = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent()
        while url.path != "/" && !url.path.isEmpty {
            var isDir: ObjCBool = false
            if fm.fileExists(atPath: url.path, isDirectory: &isDir) {
                if !isDir.boolValue { return "\(url.path) is a file, not a directory" }
                if !fm.isWritableFile(atPath: url.path) { return "\(url.path): Permission denied" }
                return nil
            }
            url.deleteLastPathComponent()
        }
        return nil
    }
}
