import Foundation
import XCTest
import Linalg
@testable import NN

final class SafeTensorsTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("nn-safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func testRoundTrip() throws {
        let url = dir.appendingPathComponent("rt.safetensors")
        let a = randomMatrix(3, 5, seed: 1), b = Matrix(rows: 1, cols: 4, elements: [1, -2, .infinity, 0])
        let e = Matrix(rows: 0, cols: 7)
        try SafeTensors.write([("z/first", a), ("a.second", b), ("empty", e)], metadata: ["k": "v", "step": "12"],
                              to: url, shapes: ["a.second": [4]])
        let f = try SafeTensors.read(from: url)
        XCTAssertEqual(f.names, ["z/first", "a.second", "empty"], "file order is the write order")
        XCTAssertEqual(f.tensors["z/first"], a)
        XCTAssertTrue(String(decoding: try Data(contentsOf: url), as: UTF8.self).contains("\"z/first\""))
        XCTAssertEqual(f.tensors["a.second"], b)
        XCTAssertEqual(f.tensors["empty"]?.rows, 0)
        XCTAssertEqual(f.tensors["empty"]?.cols, 7)
        XCTAssertEqual(f.shapes["a.second"], [4])
        XCTAssertEqual(f.metadata, ["k": "v", "step": "12"])
        // Header length is a multiple of 8 and no temporary file is left behind.
        let data = try Data(contentsOf: url)
        XCTAssertEqual(data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } % 8, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["rt.safetensors"])
        // Overwriting replaces the file.
        try SafeTensors.write([("only", b)], metadata: [:], to: url)
        XCTAssertEqual(try SafeTensors.read(from: url).names, ["only"])
    }

    func testWriteRejectsDuplicatesAndBadShapes() {
        let url = dir.appendingPathComponent("bad.safetensors")
        let m = Matrix(rows: 2, cols: 2)
        XCTAssertThrowsError(try SafeTensors.write([("x", m), ("x", m)], metadata: [:], to: url)) {
            XCTAssertEqual(($0 as? SafeTensorsError)?.kind, .duplicateName)
        }
        XCTAssertThrowsError(try SafeTensors.write([("x", m)], metadata: [:], to: url, shapes: ["x": [3]])) {
            XCTAssertEqual(($0 as? SafeTensorsError)?.kind, .shape)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: url.path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [])
    }

    /// Writes `header` (JSON text) with `data` bytes; `length` overrides the header length field.
    func raw(_ header: String, data: [UInt8] = [], length: UInt64? = nil) throws -> URL {
        let url = dir.appendingPathComponent("raw-\(UUID().uuidString).safetensors")
        let h = Array(header.utf8)
        var bytes = withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian) { Array($0) }
        bytes += h + data
        try Data(bytes).write(to: url)
        return url
    }

    func assertRejects(_ url: URL, _ kind: SafeTensorsError.Kind, _ note: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensors.read(from: url), note, file: file, line: line) { e in
            guard let s = e as? SafeTensorsError else { return XCTFail("\(note): \(e)", file: file, line: line) }
            XCTAssertEqual(s.kind, kind, "\(note): \(s)", file: file, line: line)
            XCTAssertTrue(s.description.contains(url.path), file: file, line: line)
        }
    }

    /// PyTorch writes BatchNorm's `num_batches_tracked` as an I64 scalar: I64, I32 and F64
    /// tensors are read and converted to Float (little-endian), and a BatchNorm loads such a
    /// file; a wrong byte count for the dtype is still refused.
    func testReadsIntegerAndDoubleTensors() throws {
        func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        var data: [UInt8] = le(Int64(12345))
        data += le(Int32(-7))
        data += le(Int32(1 << 20))
        data += le((0.25 as Double).bitPattern)
        let url = try raw(#"{"n":{"dtype":"I64","shape":[],"data_offsets":[0,8]},"i":{"dtype":"I32","shape":[2],"data_offsets":[8,16]},"d":{"dtype":"F64","shape":[1,1],"data_offsets":[16,24]}}"#,
                          data: data)
        let f = try SafeTensors.read(from: url)
        XCTAssertEqual(f.tensors["n"]?.elements, [12345])
        XCTAssertEqual(f.shapes["n"], [Int]())
        XCTAssertEqual(f.tensors["i"]?.elements, [-7, 1_048_576] as [Float])
        XCTAssertEqual(f.tensors["d"]?.elements, [0.25])
        assertRejects(try raw(#"{"a":{"dtype":"I64","shape":[2],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)),
                      .shape, "I64 needs 8 bytes per element")

        let bn = BatchNorm(channels: 2, height: 1, width: 1)
        let one: [UInt8] = le(Float(1).bitPattern)
        let header = #"{"weight":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"bias":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"running_mean":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},"running_var":{"dtype":"F32","shape":[2],"data_offsets":[24,32]},"num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[32,40]}}"#
        var bytes: [UInt8] = []
        for _ in 0..<8 { bytes += one }
        bytes += le(Int64(937))
        let torchFile = try raw(header, data: bytes)
        try bn.loadStateDict(SafeTensors.read(from: torchFile).tensors)
        XCTAssertEqual(bn.numBatchesTracked, 937)
    }

    func testMalformedFilesThrow() throws {
        let eight = [UInt8](repeating: 0, count: 8)
        let ok = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        XCTAssertNoThrow(try SafeTensors.read(from: raw(ok, data: eight)), "control: valid file")

        let short = dir.appendingPathComponent("short")
        try Data([1, 2, 3]).write(to: short)
        assertRejects(short, .truncated, "shorter than 8 bytes")
        assertRejects(try raw(ok, data: eight, length: 10_000), .truncated, "header length past the end")
        assertRejects(try raw(ok, data: eight, length: UInt64.max), .truncated, "header length 2^64-1")
        assertRejects(try raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#, data: eight), .header, "bad JSON")
        assertRejects(try raw(#"[1,2]"#), .header, "not an object")
        assertRejects(try raw(#"{"a":{"dtype":"F99","shape":[2],"data_offsets":[0,8]}}"#, data: eight), .dtype, "unknown dtype")
        assertRejects(try raw(#"{"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}}"#, data: eight), .dtype, "unsupported dtype")
        assertRejects(try raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, data: eight), .offsets, "offsets past the end")
        assertRejects(try raw(#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: eight), .shape, "shape vs bytes")
        assertRejects(try raw(#"{"a":{"dtype":"F32","shape":[1000000000,1000000000,1000000000],"data_offsets":[0,8]}}"#, data: eight),
                      .shape, "huge shape claim (no allocation)")
        assertRejects(try raw(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: eight), .shape, "negative dim")
        assertRejects(try raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                              data: eight), .offsets, "overlap")
        assertRejects(try raw(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: eight), .offsets, "gap at start")
        assertRejects(try raw(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: eight), .offsets, "trailing bytes")
        assertRejects(try raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#,
                              data: eight), .duplicateName, "duplicate name")
        assertRejects(try raw(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, data: eight), .offsets, "begin > end")
        assertRejects(try raw(#"{"a":{"dtype":"F32","shape":[2]}}"#, data: eight), .header, "missing offsets")
        assertRejects(try raw(#"{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: eight),
                      .metadata, "non-string metadata")
    }

    /// Interoperability with Hugging Face's implementation through scripts/safetensors_check.py.
    func testInteroperatesWithPythonSafetensors() throws {
        guard Self.python(["-c", "import safetensors, numpy"]).status == 0 else {
            throw XCTSkip("python3 with safetensors and numpy not available (pip install safetensors numpy)")
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/safetensors_check.py").standardizedFileURL.path

        let fromPython = dir.appendingPathComponent("py.safetensors")
        let w = Self.python([script, "write", fromPython.path])
        XCTAssertEqual(w.status, 0, w.output)
        let f = try SafeTensors.read(from: fromPython)
        XCTAssertEqual(Set(f.names), ["layer.weight", "layer.bias", "cube", "empty"])
        XCTAssertEqual(f.tensors["layer.weight"], Matrix(rows: 3, cols: 4, elements: (0..<12).map { Float($0) * 0.5 - 1 }))
        XCTAssertEqual(f.tensors["layer.bias"], Matrix(rows: 1, cols: 3, elements: [0.25, -3, 1e-7]))
        XCTAssertEqual(f.shapes["layer.bias"], [3])
        XCTAssertEqual(f.tensors["cube"], Matrix(rows: 2, cols: 6, elements: (0..<12).map(Float.init)))
        XCTAssertEqual(f.shapes["cube"], [2, 2, 3])
        XCTAssertEqual(f.tensors["empty"]?.rows, 0)
        XCTAssertEqual(f.metadata, ["format": "pt", "written_by": "python"])

        let fromSwift = dir.appendingPathComponent("swift.safetensors")
        try SafeTensors.write([("a", Matrix([[1, 2, 3], [4, 5, 6]]).scaled(0.25)),
                               ("b", Matrix(rows: 1, cols: 4, elements: [-1.5, 0, 2.5, 1e-8]))],
                              metadata: ["written_by": "swift", "format": "pt"], to: fromSwift, shapes: ["b": [4]])
        let v = Self.python([script, "verify", fromSwift.path])
        XCTAssertEqual(v.status, 0, v.output)
    }

    static func python(_ args: [String]) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        do { try p.run() } catch { return (-1, "\(error)") }
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self))
    }
}

private extension Matrix {
    func scaled(_ a: Float) -> Matrix { var m = self; m.scale(by: a); return m }
}
