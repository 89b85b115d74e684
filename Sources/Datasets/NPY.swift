import FileIO
import Foundation
import Linalg

/// NumPy `.npy` files (format described in numpy/lib/format.py, "NEP 1"): magic `\x93NUMPY`,
/// version, a little-endian header length, a Python-dict header
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (r, c), }`, then the data in C order.
/// Supported: versions 1.0-3.0 on read (1.0 on write); on read every little-endian float and
/// integer dtype (`'<f4'`, `'<f8'`, `'|u1'`, `'<i8'`, ...; converted to Float32), C order only.
public enum NPY {
    /// Reads an array as a Matrix: float32 as is; float64 and integers (`np.save`'s defaults)
    /// converted to Float32 (uint8 as 0...255); `dtype` reports which it was (see `read`).
    ///
    /// Shapes: `(n,)` -> `n x 1` (n samples of one value); `(r, c)` -> `r x c`; `(n, h, w)` ->
    /// `n x (h*w)` (one image per row).
    /// - Throws: `DatasetError` naming the file for a bad magic or header, `fortran_order: True`,
    ///   another dtype (big-endian `'>f4'`, complex, strings), 0-D or >3-D shapes, or a data
    ///   size that differs from the shape's.
    public static func readMatrix(contentsOf url: URL) throws -> Matrix {
        try read(contentsOf: url).matrix
    }

    /// `readMatrix`, with the file's dtype (`'<f8'`, ...) and shape, so a caller can say what
    /// was converted.
    public static func read(contentsOf url: URL) throws -> (matrix: Matrix, dtype: String, shape: [Int]) {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DatasetError(path: path, problem: "cannot read: \(SystemErrorText.describe(error, path: path))")
        }
        return try data.withUnsafeBytes { raw in try parse(raw, path: path) }
    }

    static func parse(_ raw: UnsafeRawBufferPointer, path: String) throws -> (matrix: Matrix, dtype: String, shape: [Int]) {
        func fail(_ problem: String) -> DatasetError { DatasetError(path: path, problem: problem) }
        let (header, dataStart) = try parseHeader(raw, fail: fail)
        guard !header.fortranOrder else { throw fail("fortran_order arrays are not supported (save with C order)") }
        guard let element = NPYElement(descr: header.descr) else {
            throw fail("unsupported dtype '\(header.descr)'; use a little-endian float or integer array (e.g. '<f4', '<f8', '<i8', '|u1')")
        }
        let (rows, cols) = try matrixShape(header.shape, fail: fail)
        let (n, o1) = rows.multipliedReportingOverflow(by: cols)
        let (byteCount, o2) = n.multipliedReportingOverflow(by: element.size)
        guard !o1 && !o2 else { throw fail("shape \(header.shape) overflows") }
        let available = raw.count - dataStart
        guard available == byteCount else {
            throw fail("data has \(available) bytes, shape \(header.shape) of '\(header.descr)' needs \(byteCount)")
        }
        var m = Matrix(rows: rows, cols: cols)
        let body = raw.baseAddress! + dataStart
        m.withUnsafeMutableBufferPointer { dst in
            if header.descr == "<f4" {
                // The common case without the per-element closure.
                for i in 0..<n {
                    let bits = body.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)
                    dst[i] = Float(bitPattern: UInt32(littleEndian: bits))
                }
            } else {
                for i in 0..<n { dst[i] = Float(element.read(body, i)) }
            }
        }
        return (m, header.descr, header.shape)
    }

    /// The preamble (magic, version, header length) and the header dict; returns the header
    /// and the offset of the data.
    static func parseHeader(_ raw: UnsafeRawBufferPointer,
                                    fail: (String) -> DatasetError) throws -> (NPYHeader, Int) {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard raw.count >= 10, Array(raw[0..<6]) == magic else {
            throw fail("not an NPY file (bad magic)")
        }
        let major = raw[6]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(raw[8]) | Int(raw[9]) << 8
            headerStart = 10
        case 2, 3:
            guard raw.count >= 12 else { throw fail("file ends inside the NPY preamble") }
            headerLength = Int(raw[8]) | Int(raw[9]) << 8 | Int(raw[10]) << 16 | Int(raw[11]) << 24
            headerStart = 12
        default:
            throw fail("unsupported NPY version \(major).\(raw[7])")
        }
        guard headerStart + headerLength <= raw.count else {
            throw fail("header length \(headerLength) runs past the end of the file (\(raw.count) bytes)")
        }
        guard let text = String(bytes: raw[headerStart..<(headerStart + headerLength)], encoding: .utf8) else {
            throw fail("header is not text")
        }
        do {
            return (try NPYHeader(parsing: text), headerStart + headerLength)
        } catch let e as NPYHeader.ParseError {
            throw fail("bad header \(text.trimmingCharacters(in: .whitespacesAndNewlines)): \(e.message)")
        }
    }

    /// Rows and columns of the matrix for an array shape: `(n,)` -> `1 x n`, `(r, c)`, and
    /// `(n, h, w)` -> `n x (h*w)`.
    private static func matrixShape(_ shape: [Int], fail: (String) -> DatasetError) throws -> (Int, Int) {
        switch shape.count {
        case 1: return (shape[0], 1)
        case 2: return (shape[0], shape[1])
        case 3:
            let (hw, o) = shape[1].multipliedReportingOverflow(by: shape[2])
            guard !o else { throw fail("shape \(shape) overflows") }
            return (shape[0], hw)
        default:
            throw fail("\(shape.count)-D array \(shape) not supported (need 1-D, 2-D or 3-D)")
        }
    }

    /// Writes `matrix` as a `'<f4'` array of shape `(rows, cols)`, version 1.0, atomically.
    /// - Throws: `DatasetError` when the file cannot be written.
    public static func write(_ matrix: Matrix, to url: URL) throws {
        var data = header(descr: "<f4", shape: [matrix.rows, matrix.cols])
        let start = data.count, n = matrix.count
        data.count = start + n * 4
        matrix.withUnsafeBufferPointer { p in
            data.withUnsafeMutableBytes { raw in
                let out = raw.baseAddress! + start
                for i in 0..<n {
                    out.storeBytes(of: p[i].bitPattern.littleEndian, toByteOffset: i &* 4, as: UInt32.self)
                }
            }
        }
        try writeAtomically(data, to: url)
    }

    /// Writes bytes as a `'|u1'` array of `shape` (C order), version 1.0, atomically.
    /// - Throws: `DatasetError` when the product of `shape` is not `bytes.count` or the file
    ///   cannot be written.
    public static func writeBytes(_ bytes: [UInt8], shape: [Int], to url: URL) throws {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == bytes.count else {
            throw DatasetError(path: url.path, problem: "shape \(shape) does not hold \(bytes.count) bytes")
        }
        var data = header(descr: "|u1", shape: shape)
        data.append(contentsOf: bytes)
        try writeAtomically(data, to: url)
    }

    /// Magic, version 1.0, and the dict header padded with spaces and a newline so that the data
    /// starts at a multiple of 64 bytes (as numpy writes it).
    static func header(descr: String, shape: [Int]) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)"
            : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let len = UInt16(dict.utf8.count)
        data.append(UInt8(len & 0xFF))
        data.append(UInt8(len >> 8))
        data.append(contentsOf: Array(dict.utf8))
        return data
    }
}

/// The header dict of an NPY file: a Python literal with the keys `descr` (a string),
/// `fortran_order` (True/False) and `shape` (a tuple of non-negative ints).
struct NPYHeader {
    struct ParseError: Error { let message: String }
    var descr = ""
    var fortranOrder = false
    var shape: [Int] = []

    init(parsing text: String) throws {
        var p = Parser(chars: Array(text.utf8))
        var keys: Set<String> = []
        try p.expect(UInt8(ascii: "{"))
        while true {
            p.skipSpace()
            if p.peek == UInt8(ascii: "}") { p.pos += 1; break }
            let key = try p.string()
            try p.expect(UInt8(ascii: ":"))
            switch key {
            case "descr": descr = try p.string()
            case "fortran_order": fortranOrder = try p.bool()
            case "shape": shape = try p.tuple()
            default: throw ParseError(message: "unexpected key '\(key)'")
            }
            keys.insert(key)
            p.skipSpace()
            if p.peek == UInt8(ascii: ",") { p.pos += 1; continue }
            try p.expect(UInt8(ascii: "}"))
            break
        }
        p.skipSpace()
        guard p.pos == p.chars.count else { throw ParseError(message: "text after the dict") }
        for k in ["descr", "fortran_order", "shape"] where !keys.contains(k) {
            throw ParseError(message: "missing key '\(k)'")
        }
    }

    struct Parser {
        let chars: [UInt8]
        var pos = 0
        var peek: UInt8? { pos < chars.count ? chars[pos] : nil }

        mutating func skipSpace() {
            while let c = peek, c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D { pos += 1 }
        }
        mutating func expect(_ c: UInt8) throws {
            skipSpace()
            guard peek == c else {
                throw ParseError(message: "expected '\(Character(Unicode.Scalar(c)))' at offset \(pos)")
            }
            pos += 1
        }
        mutating func string() throws -> String {
            skipSpace()
            guard let q = peek, q == UInt8(ascii: "'") || q == UInt8(ascii: "\"") else {
                throw ParseError(message: "expected a quoted string at offset \(pos)")
            }
            pos += 1
            let start = pos
            while let c = peek, c != q { pos += 1 }
            guard peek == q else { throw ParseError(message: "unterminated string") }
            let s = String(decoding: chars[start..<pos], as: UTF8.self)
            pos += 1
            return s
        }
        mutating func bool() throws -> Bool {
            skipSpace()
            for (word, value) in [("True", true), ("False", false)] {
                let w = Array(word.utf8)
                if pos + w.count <= chars.count && Array(chars[pos..<(pos + w.count)]) == w {
                    pos += w.count
                    return value
                }
            }
            throw ParseError(message: "expected True or False at offset \(pos)")
        }
        mutating func tuple() throws -> [Int] {
            try expect(UInt8(ascii: "("))
            var out: [Int] = []
            while true {
                skipSpace()
                if peek == UInt8(ascii: ")") { pos += 1; return out }
                let start = pos
                while let c = peek, c >= 0x30 && c <= 0x39 { pos += 1 }
                guard pos > start, pos - start <= 18,
                      let v = Int(String(decoding: chars[start..<pos], as: UTF8.self)) else {
                    throw ParseError(message: "expected a non-negative integer at offset \(start)")
                }
                out.append(v)
                skipSpace()
                if peek == UInt8(ascii: ",") { pos += 1; continue }
                try expect(UInt8(ascii: ")"))
                return out
            }
        }
    }
}
