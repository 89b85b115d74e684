import Datasets
import Foundation
import FuzzSupport

/// The libFuzzer callback, for builds where libFuzzer's own `main` is linked (debug).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzNPY(data ?? UnsafePointer(bitPattern: 1)!, size)
}

/// Entry point where SwiftPM links `main` to `<module>_main` (release): hands over to libFuzzer.
@_cdecl("fuzz_npy_main")
public func fuzzNPYMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzInput.runDriver(argc, argv) { data, size in fuzzNPY(data ?? UnsafePointer(bitPattern: 1)!, size) }
}

func fuzzNPY(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = FuzzInput.file(bytes, size, name: "samples.npy")
    do {
        _ = try NPY.readMatrix(contentsOf: url)
    } catch let e as DatasetError {
        FuzzInput.checkError(e.description, names: url)
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    return 0
}
