import Datasets
import Foundation
import FuzzSupport

/// IDX reader through a valid gzip stream: the input is gzip-compressed (by the `gzip` format
/// writer of zlib, via `gzopen(…, "wb")`) before reading, so the fuzzer explores IDX headers
/// and sizes behind decompression (claimed sizes against decoded data).
/// The libFuzzer callback, for builds where libFuzzer's own `main` is linked (debug).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzIDXGz(data ?? UnsafePointer(bitPattern: 1)!, size)
}

/// Entry point where SwiftPM links `main` to `<module>_main` (release): hands over to libFuzzer.
@_cdecl("fuzz_idx_gz_main")
public func fuzzIDXGzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzInput.runDriver(argc, argv) { data, size in fuzzIDXGz(data ?? UnsafePointer(bitPattern: 1)!, size) }
}

func fuzzIDXGz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = FuzzInput.directory.appendingPathComponent("labels-idx1-ubyte.gz")
    Gzip.write(bytes, size, to: url.path)
    do {
        let a = try IDX.read(contentsOf: url)
        precondition(a.bytes.count == a.dimensions.reduce(1, *), "IDX size mismatch")
    } catch let e as DatasetError {
        FuzzInput.checkError(e.description, names: url)
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    return 0
}
