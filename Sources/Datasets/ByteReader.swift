import CZlib
import Foundation

/// Sequential reader over a raw or gzip-compressed file. Gzip is detected by the `1f 8b` magic
/// and decoded incrementally through zlib's `gzread`, so a header's size claim never turns into
/// an allocation larger than the data actually present.
final class ByteReader {
    let path: String
    /// True when the file is gzip-compressed.
    let isGzip: Bool
    /// Size of the file on disk in bytes.
    let fileSize: Int
    private var file: UnsafeMutablePointer<FILE>?
    private var gz: gzFile?

    init(path: String) throws {
        self.path = path
        guard let f = fopen(path, "rb") else {
            throw DatasetError(path: path, problem: "cannot open: \(String(cString: strerror(errno)))")
        }
        var st = stat()
        guard fstat(fileno(f), &st) == 0 else {
            fclose(f)
            throw DatasetError(path: path, problem: "cannot stat: \(String(cString: strerror(errno)))")
        }
        fileSize = Int(st.st_size)
        var magic: (UInt8, UInt8) = (0, 0)
        let n = withUnsafeMutableBytes(of: &magic) { fread($0.baseAddress, 1, 2, f) }
        isGzip = n == 2 && magic.0 == 0x1f && magic.1 == 0x8b
        if isGzip {
            fclose(f)
            guard let g = gzopen(path, "rb") else {
                throw DatasetError(path: path, problem: "cannot open gzip stream")
            }
            gzbuffer(g, 1 << 17)
            gz = g
        } else {
            rewind(f)
            file = f
        }
    }

    deinit {
        if let file { fclose(file) }
        if let gz { gzclose(gz) }
    }

    /// Reads up to `buffer.count` bytes; returns fewer only at the end of the data.
    /// - Throws: on an I/O error or a corrupt / truncated gzip stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        var got = 0
        while got < buffer.count {
            let want = min(buffer.count - got, 1 << 30)
            let n: Int
            if let gz {
                let r = gzread(gz, base + got, UInt32(want))
                var errnum: Int32 = 0
                let msg = gzerror(gz, &errnum)
                if r < 0 || errnum != Z_OK {
                    let text = msg.map { String(cString: $0) } ?? "error \(errnum)"
                    if errnum == Z_BUF_ERROR {
                        throw DatasetError(path: path, problem: "truncated gzip stream (\(text))")
                    }
                    throw DatasetError(path: path, problem: "corrupt gzip stream (\(text))")
                }
                n = Int(r)
            } else if let file {
                n = fread(base + got, 1, want, file)
                if n < want && ferror(file) != 0 {
                    throw DatasetError(path: path, problem: "read error: \(String(cString: strerror(errno)))")
                }
            } else {
                n = 0
            }
            if n == 0 { break }
            got += n
        }
        return got
    }

    /// Reads exactly `count` bytes (a small header field), or throws naming `what`.
    func readExactly(_ count: Int, what: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let n = try out.withUnsafeMutableBytes { try read(into: $0) }
        guard n == count else {
            throw DatasetError(path: path, problem: "file ends inside the \(what) (\(n) of \(count) bytes)")
        }
        return out
    }

    /// Reads the remaining data, which must be exactly `expected` bytes: fewer is a truncated file,
    /// more is trailing bytes. `consumed` is how many bytes precede the data (for raw files, whose
    /// size is checked before allocating). Gzip data is read in chunks, so memory grows only with
    /// the bytes actually decoded.
    func readBody(expected: Int, consumed: Int, describe: String) throws -> [UInt8] {
        if !isGzip {
            let available = fileSize - consumed
            guard available == expected else {
                throw DatasetError(path: path, problem: available < expected
                    ? "truncated: \(available) data bytes, \(describe) need \(expected)"
                    : "\(available - expected) trailing bytes after the \(expected) data bytes \(describe) describe")
            }
            var out = [UInt8](repeating: 0, count: expected)
            let n = try out.withUnsafeMutableBytes { try read(into: $0) }
            guard n == expected else {
                throw DatasetError(path: path, problem: "file shrank while reading (\(n) of \(expected) bytes)")
            }
            return out
        }
        let chunkSize = 1 << 20
        var out: [UInt8] = []
        // Deflate expands at most ~1032:1, so this bound never exceeds what the file can hold.
        out.reserveCapacity(min(expected, max(fileSize, 0).multipliedReportingOverflow(by: 1032).partialValue))
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { chunk.deallocate() }
        while out.count < expected {
            let want = min(chunkSize, expected - out.count)
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: chunk[0..<want]))
            out.append(contentsOf: chunk[0..<n])
            if n < want {
                throw DatasetError(path: path,
                    problem: "truncated: data ends after \(out.count) bytes, \(describe) need \(expected)")
            }
        }
        var extra: UInt8 = 0
        let more = try withUnsafeMutableBytes(of: &extra) { try read(into: $0) }
        guard more == 0 else {
            throw DatasetError(path: path, problem: "trailing bytes after the \(expected) data bytes \(describe) describe")
        }
        return out
    }
}
