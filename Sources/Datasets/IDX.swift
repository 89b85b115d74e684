import Foundation

/// An IDX array of unsigned bytes (type code 0x08): its dimensions (outermost first) and its
/// elements in row-major order; `bytes.count` is the product of `dimensions`.
public struct IDXArray: Sendable {
    public let dimensions: [Int]
    public let bytes: [UInt8]
}

/// Reader for the IDX format of the MNIST distribution (LeCun et al., yann.lecun.com/exdb/mnist):
/// magic `00 00 <type> <ndims>`, one big-endian UInt32 per dimension, then the data.
public enum IDX {
    /// Reads an unsigned-byte IDX file, raw or gzip-compressed (detected by the `1f 8b` magic).
    ///
    /// - Parameters:
    ///   - expectedDimensions: when given, the magic must be `0x0000080<n>` with this `n`
    ///     (3 for MNIST images, 1 for labels); `role` names it in the error ("images").
    /// - Throws: `DatasetError` naming the file when the magic is wrong, the type code is not
    ///   0x08 (other IDX types are unsupported), the dimension count is not 1...4, the data is
    ///   shorter or longer than the product of the dimensions, or the gzip stream is corrupt or
    ///   truncated. Sizes are checked against the real data before any large allocation.
    public static func read(contentsOf url: URL, expectedDimensions: Int? = nil,
                            role: String? = nil) throws -> IDXArray {
        let path = url.path
        let reader = try ByteReader(path: path)
        let head = try reader.readExactly(4, what: "IDX header")
        let magic = UInt32(head[0]) << 24 | UInt32(head[1]) << 16 | UInt32(head[2]) << 8 | UInt32(head[3])
        let roleText = role.map { " (\($0))" } ?? ""
        let expected = expectedDimensions.map { 0x0000_0800 | UInt32($0) }
        let expectedText = expected.map { ", expected \(hex32($0))\(roleText)" } ?? ""
        guard head[0] == 0 && head[1] == 0 else {
            throw DatasetError(path: path, problem:
                "bad magic \(hex32(magic))\(expectedText): not an IDX file (first two bytes must be 0)")
        }
        guard head[2] == 0x08 else {
            let names: [UInt8: String] = [0x09: "signed byte", 0x0B: "int16", 0x0C: "int32",
                                          0x0D: "float32", 0x0E: "float64"]
            let name = names[head[2]].map { "\($0) " } ?? ""
            throw DatasetError(path: path, problem:
                "unsupported IDX type code 0x\(String(head[2], radix: 16, uppercase: true)) (\(name)data); only unsigned byte (0x08) is supported")
        }
        if let expected, magic != expected {
            throw DatasetError(path: path, problem: "bad magic \(hex32(magic))\(expectedText)")
        }
        let ndims = Int(head[3])
        guard (1...4).contains(ndims) else {
            throw DatasetError(path: path, problem: "IDX dimension count \(ndims) out of range 1...4")
        }
        let dimBytes = try reader.readExactly(4 * ndims, what: "IDX dimensions")
        var dims: [Int] = []
        var product = 1
        for d in 0..<ndims {
            let b = dimBytes[(4 * d)..<(4 * d + 4)]
            let v = Int(b[b.startIndex]) << 24 | Int(b[b.startIndex + 1]) << 16
                | Int(b[b.startIndex + 2]) << 8 | Int(b[b.startIndex + 3])
            dims.append(v)
            let (p, overflow) = product.multipliedReportingOverflow(by: v)
            guard !overflow else {
                throw DatasetError(path: path, problem: "IDX dimensions \(dims) overflow")
            }
            product = p
        }
        let shape = dims.map(String.init).joined(separator: "x")
        let bytes = try reader.readBody(expected: product, consumed: 4 + 4 * ndims,
                                        describe: "dimensions \(shape)")
        return IDXArray(dimensions: dims, bytes: bytes)
    }
}
