import FileIO
import Foundation
import Linalg

#if _endian(big)
#error("SafeTensors assumes a little-endian host (the format is little-endian)")
#endif

/// The contents of a safetensors file.
public struct SafeTensorsFile: Sendable {
    /// Tensors by name. Every tensor is a `Matrix`: a 2-D `[r, c]` tensor is `r x c`; a 1-D
    /// `[n]` tensor (e.g. PyTorch's bias) is `1 x n`; a 0-D scalar is `1 x 1`; a tensor of rank
    /// 3 or more is `shape[0] x (product of the rest)` (row-major order is kept).
    public var tensors: [String: Matrix]
    /// Tensor names in file order (by data offset).
    public var names: [String]
    /// The original shapes from the header.
    public var shapes: [String: [Int]]
    /// The `__metadata__` string map (empty when absent).
    public var metadata: [String: String]
}

/// A safetensors file that cannot be read or written; `path` names the file.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Open/read/write/rename failed.
        case io
        /// The file is shorter than its 8-byte header length plus the header it claims.
        case truncated
        /// The header is not a JSON object of tensor entries (bad JSON, missing or wrong fields).
        case header
        /// A dtype that is not a safetensors dtype, or one this reader does not support (F32,
        /// and the integer and double types converted to F32 on reading: I64, I32, F64).
        case dtype
        /// The shape's byte size differs from its data range, or a write shape has the wrong size.
        case shape
        /// Data offsets out of bounds, overlapping, or leaving gaps (the spec forbids both).
        case offsets
        /// The same tensor name twice.
        case duplicateName
        /// `__metadata__` is not a map from strings to strings.
        case metadata
    }
    public let kind: Kind
    public let path: String
    public let message: String

    public var description: String { "\(path): \(message)" }
}

/// Reader and writer for the safetensors format (https://github.com/huggingface/safetensors):
/// an 8-byte little-endian header length `n`, `n` bytes of JSON
/// `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}`, then
/// the raw little-endian data, offsets relative to the end of the header.
public enum SafeTensors {
    /// Every dtype name the format defines (`F32`, `I64`, `I32` and `F64` are read here).
    static let knownDtypes: Set<String> = [
        "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2",
        "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64", "C64",
    ]

    /// Writes `tensors` as F32, in the given order, with `metadata` as `__metadata__`.
    ///
    /// Atomic: the bytes go to a temporary file in the same directory, which is fsynced and then
    /// renamed over `url`, so `url` is never half-written. `shapes` optionally gives a tensor's
    /// stored shape (its product must equal the matrix's element count), e.g. `[out]` for a bias
    /// so PyTorch's `load_state_dict` accepts it (`Sequential.stateDictShapes()`); otherwise a
    /// matrix is stored as `[rows, cols]`. The header is padded with spaces to a multiple of 8.
    /// - Throws: `SafeTensorsError` (`.duplicateName`, `.shape`, `.header` for a name
    ///   `__metadata__`, `.io`).
    public static func write(_ tensors: [(name: String, tensor: Matrix)], metadata: [String: String],
                             to url: URL, shapes: [String: [Int]] = [:]) throws {
        let path = url.path
        func fail(_ k: SafeTensorsError.Kind, _ m: String) -> SafeTensorsError {
            SafeTensorsError(kind: k, path: path, message: m)
        }
        var header: [String: Any] = [:]
        var offset = 0
        for (name, t) in tensors {
            if name == "__metadata__" { throw fail(.header, "a tensor cannot be named __metadata__") }
            if header[name] != nil { throw fail(.duplicateName, "tensor \"\(name)\" given twice") }
            let shape = shapes[name] ?? [t.rows, t.cols]
            if shape.contains(where: { $0 < 0 }) || shape.reduce(1, *) != t.count {
                throw fail(.shape, "shape \(shape) for \"\(name)\" does not hold its \(t.rows)x\(t.cols) elements")
            }
            let bytes = t.count * MemoryLayout<Float>.size
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var json: Data
        do {
            json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw fail(.header, "cannot encode the header: \(error)")
        }
        // Pad so the data starts 8-byte aligned (what the reference implementation does).
        let pad = (8 - json.count % 8) % 8
        json.append(contentsOf: [UInt8](repeating: 0x20, count: pad))

        do {
            try AtomicFile.write(to: url) { out in
                var n = UInt64(json.count).littleEndian
                try withUnsafeBytes(of: &n) { try out.write($0) }
                try out.write(json)
                for (_, t) in tensors {
                    try t.withUnsafeBufferPointer { try out.write(UnsafeRawBufferPointer($0)) }
                }
            }
        } catch let e as FileIOError {
            throw fail(.io, e.problem)
        }
    }

    /// Bytes per element of the dtypes this reader converts to Float32: `F32` as it is; `I64`
    /// (PyTorch's `BatchNorm.num_batches_tracked` buffer), `I32` and `F64` rounded to the
    /// nearest Float (exact for integers up to 2^24 in magnitude).
    static let readableDtypes: [String: Int] = ["F32": 4, "I64": 8, "I32": 4, "F64": 8]

    /// Reads a safetensors file of F32 tensors (I64, I32 and F64 tensors are converted to F32,
    /// see `readableDtypes`), validating everything before allocating:
    /// header length against the file size, the JSON, each entry's dtype, shape and
    /// `data_offsets` (in bounds, shape bytes equal to the range, ranges contiguous from 0 to the
    /// end of the data with no overlap or gap, as the spec requires), duplicate names, and
    /// `__metadata__`. Allocates only tensors that fit in the file.
    /// - Throws: `SafeTensorsError` naming the file and the problem; never traps on bad input.
    public static func read(from url: URL) throws -> SafeTensorsFile {
        let fail = { (k: SafeTensorsError.Kind, m: String) in SafeTensorsError(kind: k, path: url.path, message: m) }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw fail(.io, "cannot read: \(SystemErrorText.describe(error, path: url.path))")
        }
        let (root, headerLength) = try readHeader(data, fail)
        let metadata = try readMetadata(root, fail)
        let dataSize = data.count - 8 - headerLength
        var entries: [HeaderEntry] = []
        for (name, value) in root where name != "__metadata__" {
            entries.append(try readEntry(name, value, dataSize: dataSize, fail))
        }
        entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        try checkContiguous(entries, dataSize: dataSize, fail)
        var tensors: [String: Matrix] = [:]
        var shapes: [String: [Int]] = [:]
        for e in entries {
            tensors[e.name] = try loadTensor(e, from: data, dataStart: 8 + headerLength, fail)
            shapes[e.name] = e.shape
        }
        return SafeTensorsFile(tensors: tensors, names: entries.map(\.name), shapes: shapes, metadata: metadata)
    }

    typealias Fail = (SafeTensorsError.Kind, String) -> SafeTensorsError

    /// One tensor's header entry, validated.
    struct HeaderEntry { let name: String; let dtype: String; let shape: [Int]; let begin: Int; let end: Int }

    /// The header's JSON object and its length: the 8-byte length against the file size, the
    /// JSON, and duplicate names (which JSONSerialization would silently merge).
    static func readHeader(_ data: Data, _ fail: Fail) throws -> ([String: Any], Int) {
        guard data.count >= 8 else { throw fail(.truncated, "\(data.count) bytes, shorter than the 8-byte header length") }
        let n = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n <= UInt64(data.count - 8) else {
            throw fail(.truncated, "header length \(n) exceeds the \(data.count - 8) bytes after it")
        }
        let headerLength = Int(n)
        let headerBytes = data.subdata(in: 8..<(8 + headerLength))
        guard headerBytes.first == UInt8(ascii: "{") else { throw fail(.header, "header does not start with '{'") }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw fail(.header, "header is not valid JSON: \(error.localizedDescription)")
        }
        guard let root = object as? [String: Any] else { throw fail(.header, "header is not a JSON object") }
        guard let keys = JSONKeyScanner.topLevelKeys(Array(headerBytes)) else {
            throw fail(.header, "header is not a JSON object")
        }
        var seen = Set<String>()
        for k in keys where !seen.insert(k).inserted {
            throw fail(.duplicateName, "tensor \"\(k)\" appears twice in the header")
        }
        return (root, headerLength)
    }

    /// `__metadata__`: an object of strings, or absent.
    static func readMetadata(_ root: [String: Any], _ fail: Fail) throws -> [String: String] {
        var metadata: [String: String] = [:]
        if let m = root["__metadata__"] {
            guard let dict = m as? [String: Any] else { throw fail(.metadata, "__metadata__ is not an object") }
            for (k, v) in dict {
                guard let s = v as? String else { throw fail(.metadata, "__metadata__[\"\(k)\"] is not a string") }
                metadata[k] = s
            }
        }
        return metadata
    }

    /// One entry: F32 dtype, a shape whose byte size equals its `data_offsets` range (no
    /// overflow), offsets inside the data, no unknown fields.
    static func readEntry(_ name: String, _ value: Any, dataSize: Int, _ fail: Fail) throws -> HeaderEntry {
        guard let e = value as? [String: Any] else { throw fail(.header, "entry \"\(name)\" is not an object") }
        guard let dtype = e["dtype"] as? String else { throw fail(.header, "entry \"\(name)\" has no string dtype") }
        guard knownDtypes.contains(dtype) else { throw fail(.dtype, "tensor \"\(name)\" has unknown dtype \"\(dtype)\"") }
        guard let width = readableDtypes[dtype] else {
            throw fail(.dtype, "tensor \"\(name)\" has dtype \(dtype); only F32, I64, I32 and F64 are supported")
        }
        guard let shapeAny = e["shape"] as? [Any] else { throw fail(.header, "entry \"\(name)\" has no shape array") }
        var shape: [Int] = []
        var elements = 1
        for s in shapeAny {
            guard let d = exactInt(s), d >= 0 else { throw fail(.shape, "tensor \"\(name)\" has a bad shape \(shapeAny)") }
            shape.append(d)
            let (p, o) = elements.multipliedReportingOverflow(by: d)
            guard !o else { throw fail(.shape, "tensor \"\(name)\" shape \(shape) overflows") }
            elements = p
        }
        guard let offs = e["data_offsets"] as? [Any], offs.count == 2,
              let begin = exactInt(offs[0]), let end = exactInt(offs[1]) else {
            throw fail(.header, "entry \"\(name)\" needs data_offsets [begin, end]")
        }
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw fail(.offsets, "tensor \"\(name)\" data_offsets [\(begin), \(end)] are outside the \(dataSize) data bytes")
        }
        let (bytes, o) = elements.multipliedReportingOverflow(by: width)
        guard !o, bytes == end - begin else {
            throw fail(.shape, "tensor \"\(name)\" shape \(shape) needs \(o ? "too many" : String(bytes)) bytes but data_offsets span \(end - begin)")
        }
        let extra = Set(e.keys).subtracting(["dtype", "shape", "data_offsets"])
        if let x = extra.sorted().first { throw fail(.header, "entry \"\(name)\" has unknown field \"\(x)\"") }
        return HeaderEntry(name: name, dtype: dtype, shape: shape, begin: begin, end: end)
    }

    /// The sorted ranges must tile the data from 0 to its end, as the spec requires.
    static func checkContiguous(_ entries: [HeaderEntry], dataSize: Int, _ fail: Fail) throws {
        var expected = 0
        for e in entries {
            if e.begin != expected {
                throw fail(.offsets, e.begin < expected
                    ? "tensor \"\(e.name)\" data_offsets [\(e.begin), \(e.end)] overlap the previous tensor (ending at \(expected))"
                    : "gap before tensor \"\(e.name)\": data starts at \(e.begin), previous tensor ends at \(expected)")
            }
            expected = e.end
        }
        if expected != dataSize {
            throw fail(.offsets, "tensors cover \(expected) of the \(dataSize) data bytes")
        }
    }

    /// The entry's bytes as a `shape[0] x (product of the rest)` matrix (`1 x n` for 1-D).
    static func loadTensor(_ e: HeaderEntry, from data: Data, dataStart: Int, _ fail: Fail) throws -> Matrix {
        let rows: Int, cols: Int
        switch e.shape.count {
        case 0: rows = 1; cols = 1
        case 1: rows = 1; cols = e.shape[0]
        default:
            // A zero dimension makes the element count 0 while the others may still
            // multiply past Int.max.
            rows = e.shape[0]
            var c = 1
            for d in e.shape.dropFirst() {
                let (p, o) = c.multipliedReportingOverflow(by: d)
                guard !o else { throw fail(.shape, "tensor \"\(e.name)\" shape \(e.shape) overflows") }
                c = p
            }
            cols = c
        }
        var m = Matrix(rows: rows, cols: cols)
        let count = e.end - e.begin
        m.withUnsafeMutableBufferPointer { dst in
            data.withUnsafeBytes { src in
                guard count > 0, let d = dst.baseAddress, let s = src.baseAddress else { return }
                let from = UnsafeRawPointer(s + dataStart + e.begin)
                switch e.dtype {
                case "I64": convert(from, Int64.self, count: dst.count, into: d)
                case "I32": convert(from, Int32.self, count: dst.count, into: d)
                case "F64": for i in 0..<dst.count { d[i] = Float(from.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
                default: UnsafeMutableRawPointer(d).copyMemory(from: from, byteCount: count)
                }
            }
        }
        return m
    }

    /// `count` little-endian integers of type `T` at `from` (any alignment), rounded to Float.
    static func convert<T: FixedWidthInteger>(_ from: UnsafeRawPointer, _: T.Type, count: Int,
                                              into d: UnsafeMutablePointer<Float>) {
        for i in 0..<count {
            d[i] = Float(T(littleEndian: from.loadUnaligned(fromByteOffset: MemoryLayout<T>.size * i, as: T.self)))
        }
    }

    /// An integer JSON number (a fraction is rejected), as Foundation decodes it. Foundation on
    /// Linux cannot tell a JSON boolean from 0/1 reliably, so `true` would read as 1.
    static func exactInt(_ v: Any) -> Int? {
        if let i = v as? Int { return i }
        if let n = v as? NSNumber {
            let d = n.doubleValue
            if d.rounded() == d, abs(d) < 9.0e15 { return Int(d) }
        }
        return nil
    }
}
