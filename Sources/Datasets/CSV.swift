import FileIO
import Foundation
import Linalg

/// Numeric comma-separated files: one sample per line, every line the same number of columns.
public enum CSV {
    /// Reads a numeric CSV as a `lines x columns` Matrix (one sample per row).
    ///
    /// Fields are trimmed of spaces/tabs and parsed as Float (`1`, `-2.5e-3`, `nan`, `inf`);
    /// `\r\n` line ends, empty lines and a leading UTF-8 byte-order mark are accepted; quoting is
    /// not. `hasHeader`: true skips the first non-empty line, false requires it to be numeric, nil
    /// (default) treats it as a header when none of its fields is a number (so a data line with
    /// one bad or empty field is reported, not skipped as a header).
    /// - Throws: `DatasetError` naming the file and the 1-based line (and column) of a
    ///   non-numeric or empty field, or of a line whose column count differs from the first
    ///   data line's; also for a file with no data lines or that is not UTF-8/ASCII readable.
    public static func readMatrix(contentsOf url: URL, hasHeader: Bool? = nil) throws -> Matrix {
        try read(contentsOf: url, hasHeader: hasHeader).matrix
    }

    /// `readMatrix`, with the header line's fields (trimmed) when one was skipped.
    public static func read(contentsOf url: URL, hasHeader: Bool? = nil) throws -> (matrix: Matrix, header: [String]?) {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DatasetError(path: path, problem: "cannot read: \(SystemErrorText.describe(error, path: path))")
        }
        return try data.withUnsafeBytes { raw in
            try parse(raw.bindMemory(to: UInt8.self), path: path, hasHeader: hasHeader)
        }
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, path: String, hasHeader: Bool?) throws -> (matrix: Matrix, header: [String]?) {
        var header: [String]?
        var values: [Float] = []
        var columns = -1
        var firstDataLine = 0
        var lineNumber = 0
        var sawFirstLine = false
        var fields: [Float] = []
        // A UTF-8 byte-order mark (spreadsheet exports) would otherwise spoil the first field.
        var start = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
        let n = bytes.count
        while start < n {
            var end = start
            while end < n && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            var lineEnd = end
            if lineEnd > start && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            let line = UnsafeBufferPointer(rebasing: bytes[start..<lineEnd])
            start = end + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            let isFirst = !sawFirstLine
            sawFirstLine = true
            fields.removeAll(keepingCapacity: true)
            let failure = splitNumbers(line, into: &fields)
            if isFirst && (hasHeader == true || (hasHeader == nil && failure != nil && !hasNumericField(line))) {
                header = String(decoding: line, as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                continue
            }
            if let (col, text) = failure {
                throw DatasetError(path: path, problem: text.isEmpty
                    ? "line \(lineNumber), column \(col): empty field"
                    : "line \(lineNumber), column \(col): '\(text)' is not a number")
            }
            if columns < 0 {
                columns = fields.count
                firstDataLine = lineNumber
            } else if fields.count != columns {
                throw DatasetError(path: path, problem:
                    "line \(lineNumber): \(fields.count) columns, expected \(columns) (as on line \(firstDataLine))")
            }
            values.append(contentsOf: fields)
        }
        guard columns > 0 else { throw DatasetError(path: path, problem: "no numeric data lines") }
        return (Matrix(rows: values.count / columns, cols: columns, elements: values), header)
    }

    /// True when any comma-separated field of `line` parses as a number.
    static func hasNumericField(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        var scratch: [Float] = []
        var rest = line[...]
        while true {
            let end = rest.firstIndex(of: 0x2C) ?? rest.endIndex
            scratch.removeAll(keepingCapacity: true)
            if splitNumbers(UnsafeBufferPointer(rebasing: rest[..<end]), into: &scratch) == nil { return true }
            if end == rest.endIndex { return false }
            rest = rest[(end + 1)...]
        }
    }

    /// Parses the comma-separated fields of `line` into `out`; returns the 1-based column and
    /// text of the first field that is not a number, or nil.
    static func splitNumbers(_ line: UnsafeBufferPointer<UInt8>, into out: inout [Float]) -> (Int, String)? {
        var column = 0
        var fieldStart = 0
        while fieldStart <= line.count {
            var fieldEnd = fieldStart
            while fieldEnd < line.count && line[fieldEnd] != 0x2C { fieldEnd += 1 }
            column += 1
            var a = fieldStart, b = fieldEnd
            while a < b && (line[a] == 0x20 || line[a] == 0x09) { a += 1 }
            while b > a && (line[b - 1] == 0x20 || line[b - 1] == 0x09) { b -= 1 }
            let text = String(decoding: UnsafeBufferPointer(rebasing: line[a..<b]), as: UTF8.self)
            guard let v = Float(text) else { return (column, text) }
            out.append(v)
            fieldStart = fieldEnd + 1
        }
        return nil
    }
}
