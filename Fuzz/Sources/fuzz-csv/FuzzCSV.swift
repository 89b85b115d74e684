import Datasets
import Foundation
import FuzzSupport

/// The libFuzzer callback, for builds where libFuzzer's own `main` is linked (debug).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzCSV(data ?? UnsafePointer(bitPattern: 1)!, size)
}

/// Entry point where SwiftPM links `main` to `<module>_main` (release): hands over to libFuzzer.
@_cdecl("fuzz_csv_main")
public func fuzzCSVMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzInput.runDriver(argc, argv) { data, size in fuzzCSV(data ?? UnsafePointer(bitPattern: 1)!, size) }
}

func fuzzCSV(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let url = FuzzInput.file(bytes, size, name: "samples.csv")
    // All three header modes (auto, forced, none) take different paths through the first line.
    for header in [nil, true, false] as [Bool?] {
        do {
            let m = try CSV.readMatrix(contentsOf: url, hasHeader: header)
            precondition(m.rows >= 1 && m.cols >= 1, "CSV returned an empty matrix")
        } catch let e as DatasetError {
            FuzzInput.checkError(e.description, names: url)
        } catch {
            fatalError("unexpected error type: \(error)")
        }
    }
    return 0
}
