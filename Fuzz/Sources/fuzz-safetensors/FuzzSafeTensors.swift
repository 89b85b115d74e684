import Foundation
import FuzzSupport
import NN

/// The libFuzzer callback, for builds where libFuzzer's own `main` is linked (debug).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzSafeTensors(data ?? UnsafePointer(bitPattern: 1)!, size)
}

/// Entry point where SwiftPM links `main` to `<module>_main` (release): hands over to libFuzzer.
@_cdecl("fuzz_safetensors_main")
public func fuzzSafeTensorsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzInput.runDriver(argc, argv) { data, size in fuzzSafeTensors(data ?? UnsafePointer(bitPattern: 1)!, size) }
}

func fuzzSafeTensors(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = FuzzInput.file(bytes, size, name: "model.safetensors")
    do {
        let f = try SafeTensors.read(from: url)
        precondition(f.names.count == f.tensors.count, "names and tensors disagree")
    } catch let e as SafeTensorsError {
        FuzzInput.checkError(e.description, names: url)
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    return 0
}
