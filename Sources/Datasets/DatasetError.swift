import FileIO
import Foundation

/// A problem with a data file or a dataset request. `description` is `"<path>: <problem>"`, e.g.
/// `data/mnist/train-images-idx3-ubyte.gz: bad magic 0x00000802, expected 0x00000803 (images)`.
public struct DatasetError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file concerned (as given by the caller's URL path).
    public let path: String
    /// What is wrong with it.
    public let problem: String
    /// True when writing `path` failed (a missing or read-only directory, a full disk); false
    /// for a file that could not be found, read or parsed. Lets a caller tell "cannot create
    /// the output" from "bad input" (e.g. for an exit code).
    public let isWriteFailure: Bool

    public init(path: String, problem: String, isWriteFailure: Bool = false) {
        self.path = path
        self.problem = problem
        self.isWriteFailure = isWriteFailure
    }

    public var description: String { "\(path): \(problem)" }
}

/// Writes `data` through the shared atomic writer (temp file, fsync, rename), reporting a
/// failure as a `DatasetError` naming the file.
func writeAtomically(_ data: Data, to url: URL) throws {
    do {
        try AtomicFile.write(data, to: url)
    } catch let e as FileIOError {
        throw DatasetError(path: e.path, problem: e.problem, isWriteFailure: true)
    }
}

/// `0x%08X` formatting without Foundation's `String(format:)` varargs.
func hex32(_ v: UInt32) -> String {
    let digits = String(v, radix: 16, uppercase: true)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
