import FileIO
import Foundation
import Linalg

/// Where the class labels of a float data file come from (`Dataset.load(path:limit:labels:classes:)`).
public enum LabelSource: Sendable, Equatable {
    /// A `.npy` of N whole numbers (any integer dtype, or float32/float64 holding whole
    /// numbers), shape `(N,)` or `(N, 1)`, one per sample in order.
    case file(String)
    /// A column of the data CSV (1-based, as in the CSV error messages; Kaggle's MNIST CSV has
    /// its `label` first: column 1), removed from the features.
    case column(Int)
}

extension NPY {
    /// Reads class labels: a 1-D array (or N x 1) of whole numbers >= 0 in any integer dtype
    /// (`np.save` of an int array writes `'<i8'`), or float32/float64 holding whole numbers.
    /// - Throws: `DatasetError` naming the file: unreadable, not NPY, another shape, an
    ///   unsupported dtype, or a value that is negative, not a whole number or above 2^31 - 1
    ///   (the 1-based row named).
    public static func readLabels(contentsOf url: URL) throws -> [Int32] {
        let path = url.path
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw DatasetError(path: path, problem: "is a directory, not a .npy file of labels")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DatasetError(path: path, problem: "cannot read: \(SystemErrorText.describe(error, path: path))")
        }
        let values = try data.withUnsafeBytes { raw -> [Double] in
            func fail(_ problem: String) -> DatasetError { DatasetError(path: path, problem: problem) }
            let (header, start) = try parseHeader(raw, fail: fail)
            guard !header.fortranOrder || header.shape.count == 1 else { throw fail("fortran_order arrays are not supported") }
            guard header.shape.count == 1 || (header.shape.count == 2 && header.shape[1] == 1) else {
                throw fail("labels must be a 1-D array of N class numbers, got shape \(header.shape)")
            }
            guard let element = NPYElement(descr: header.descr) else {
                throw fail("unsupported label dtype '\(header.descr)'; use integers (e.g. np.save of an int64 array)")
            }
            let n = header.shape[0]
            guard raw.count - start == n * element.size else {
                throw fail("data has \(raw.count - start) bytes, \(n) labels of '\(header.descr)' need \(n * element.size)")
            }
            return (0..<n).map { element.read(raw.baseAddress! + start, $0) }
        }
        return try checkedLabels(values, path: path)
    }
}

/// Whole numbers `0...Int32.max` as labels; a `DatasetError` names the first other value's
/// 1-based row (and the CSV `column` it came from).
func checkedLabels(_ values: [Double], path: String, column: Int? = nil) throws -> [Int32] {
    let at = column.map { "column \($0), " } ?? ""
    var out = [Int32]()
    out.reserveCapacity(values.count)
    for (i, v) in values.enumerated() {
        guard v.isFinite, v.rounded() == v else {
            throw DatasetError(path: path, problem: "\(at)row \(i + 1): label \(v) is not a whole number")
        }
        guard v >= 0 else { throw DatasetError(path: path, problem: "\(at)row \(i + 1): label \(v.magnitude < 1e15 ? String(Int(v)) : "\(v)") is negative") }
        guard v <= Double(Int32.max) else { throw DatasetError(path: path, problem: "\(at)row \(i + 1): label \(v) is too large") }
        out.append(Int32(v))
    }
    return out
}

/// One little-endian (or byte-sized) NumPy scalar type, read as Double.
struct NPYElement {
    let size: Int
    let read: (UnsafeRawPointer, Int) -> Double

    init?(descr: String) {
        var code = descr.drop { $0 == "<" || $0 == "|" || $0 == "=" }
        // Byte order does not matter for one-byte types.
        if code == ">u1" || code == ">i1" || code == ">b1" { code = code.dropFirst() }
        func le<T: FixedWidthInteger>(_: T.Type) -> (UnsafeRawPointer, Int) -> Double {
            { p, i in Double(T(littleEndian: p.loadUnaligned(fromByteOffset: i &* MemoryLayout<T>.size, as: T.self))) }
        }
        switch code {
        case "i1": (size, read) = (1, le(Int8.self))
        case "u1", "b1": (size, read) = (1, le(UInt8.self))
        case "i2": (size, read) = (2, le(Int16.self))
        case "u2": (size, read) = (2, le(UInt16.self))
        case "i4": (size, read) = (4, le(Int32.self))
        case "u4": (size, read) = (4, le(UInt32.self))
        case "i8": (size, read) = (8, le(Int64.self))
        case "u8": (size, read) = (8, le(UInt64.self))
        case "f4": (size, read) = (4, { p, i in Double(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: i &* 4, as: UInt32.self)))) })
        case "f8": (size, read) = (8, { p, i in Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: i &* 8, as: UInt64.self))) })
        default: return nil
        }
    }
}
