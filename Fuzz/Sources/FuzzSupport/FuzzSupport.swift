import Foundation

/// Helpers shared by the fuzz targets: each input is written to a file (the parsers read
/// files, as the product does) in a per-process directory on /dev/shm when present.
public enum FuzzInput {
    public static let directory: URL = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let dir = URL(fileURLWithPath: base).appendingPathComponent("swift-generative-fuzz-\(getpid())")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: FuzzInput.directory) }
        return dir
    }()

    /// Writes `size` bytes at `bytes` to `name` in the fuzz directory and returns its URL.
    public static func file(_ bytes: UnsafePointer<UInt8>, _ size: Int, name: String) -> URL {
        let url = directory.appendingPathComponent(name)
        let f = fopen(url.path, "wb")!
        if size > 0 { precondition(fwrite(bytes, 1, size, f) == size, "fuzz input write failed") }
        fclose(f)
        return url
    }

    /// The standard's requirement on a rejected input: the error names the file and says
    /// something after it. A violation traps, so libFuzzer reports it as a finding.
    public static func checkError(_ message: String, names url: URL) {
        guard message.contains(url.lastPathComponent), message.count > url.path.count + 3 else {
            fatalError("error does not name \(url.path) and a problem: \(message)")
        }
    }
}

/// libFuzzer's driver (LLVM >= 13), for targets whose `main` SwiftPM renames to
/// `<module>_main` (it links executables with `--defsym main=<module>_main`).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

extension FuzzInput {
    /// Runs libFuzzer with this process's arguments and `test` as the target.
    public static func runDriver(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                                 _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
        var c = argc
        var v: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
        return LLVMFuzzerRunDriver(&c, &v, test)
    }
}
