import Datasets
import Foundation
import FuzzSupport

/// IDX reader on raw bytes as a file (seeds include gzip files, so both ByteReader paths run).
/// The libFuzzer callback, for builds where libFuzzer's own `main` is linked (debug).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzIDX(data ?? UnsafePointer(bitPattern: 1)!, size)
}

/// Entry point where SwiftPM links `main` to `<module>_main` (release): hands over to libFuzzer.
@_cdecl("fuzz_idx_main")
public func fuzzIDXMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzInput.runDriver(argc, argv) { data, size in fuzzIDX(data ?? UnsafePointer(bitPattern: 1)!, size) }
}

func fuzzIDX(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = FuzzInput.file(bytes, size, name: "images-idx3-ubyte")
    do {
        let a = try IDX.read(contentsOf: url)
        precondition(a.bytes.count == a.dimensions.reduce(1, *), "IDX size mismatch")
        _ = try? IDX.read(contentsOf: url, expectedDimensions: 3, role: "images")
    } catch let e as DatasetError {
        FuzzInput.checkError(e.description, names: url)
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    return 0
}
