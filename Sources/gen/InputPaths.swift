import Datasets
import Foundation
import Generative

/// The inputs a command reads, resolved before anything is written: explicit flags as given,
/// else the package's shipped files found by `ShippedFiles` ($GEN_HOME, the current directory,
/// the executable's location, the source tree). A missing input is exit 66 naming what was
/// looked for and where.
enum InputPaths {
    /// `--data` as given (it must exist), else the shipped data/mnist.
    static func mnist(_ data: String?) throws -> URL {
        guard let data else { return try defaultMNIST() }
        try requireExisting(data, flag: "--data")
        return URL(fileURLWithPath: data)
    }

    /// Refuses a file or directory flag whose path does not exist (exit 66, naming the flag):
    /// a mistyped path is reported as the flag's, not as a missing file inside it. Nil passes.
    static func requireExisting(_ path: String?, flag: String) throws {
        if let path, !FileManager.default.fileExists(atPath: path) {
            throw CLIError(ExitStatus.noInput, "\(flag) \(path): no such file or directory")
        }
    }

    /// The shipped data/mnist.
    static func defaultMNIST() throws -> URL {
        guard let dir = MNIST.defaultDirectory() else {
            throw CLIError(ExitStatus.noInput, "no --data given and \(MNIST.defaultRelativePath) not found in \(ShippedFiles.searchedPlaces()); pass --data DIR or set \(ShippedFiles.homeVariable) to the package directory")
        }
        return warnIfHomeSkipped(dir, MNIST.defaultRelativePath, directory: true)
    }

    /// `found`, after a warning when $GEN_HOME is set but holds no `relativePath`: a $GEN_HOME
    /// without the file (a typo, a half-copied package) would otherwise be skipped silently for
    /// the next place searched.
    private static func warnIfHomeSkipped(_ found: URL, _ relativePath: String, directory: Bool) -> URL {
        if let home = ShippedFiles.homeLacking(relativePath, directory: directory) {
            printWarning("$\(ShippedFiles.homeVariable)=\(home) has no \(relativePath); using \(found.path)")
        }
        return found
    }

    /// `--classifier` as given (it must exist), else the shipped reference classifier.
    static func classifier(_ flag: String?) throws -> URL {
        let hint = "train one with `gen train classifier --out FILE`, or pass --classifier FILE"
        if let flag {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: flag, isDirectory: &isDirectory) else {
                throw CLIError(ExitStatus.noInput, "--classifier \(flag): not found (\(hint))")
            }
            guard !isDirectory.boolValue else {
                throw CLIError(ExitStatus.dataError, "--classifier \(flag): is a directory, not a classifier weights file")
            }
            return URL(fileURLWithPath: flag)
        }
        guard let url = MNISTClassifier.defaultURL() else {
            throw CLIError(ExitStatus.noInput, "no --classifier given and \(MNISTClassifier.defaultPath) not found in \(ShippedFiles.searchedPlaces()); \(hint)")
        }
        return warnIfHomeSkipped(url, MNISTClassifier.defaultPath, directory: false)
    }

    /// Refuses a directory argument that does not exist (exit 66) or is a file (exit 65).
    /// - Parameter what: how the message names it, e.g. "--resume" or "run or checkpoint directory".
    static func requireDirectory(_ url: URL, flag what: String) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw CLIError(ExitStatus.noInput, "\(what) \(url.path): no such directory")
        }
        guard isDir.boolValue else {
            throw CLIError(ExitStatus.dataError, "\(what) \(url.path): not a directory")
        }
    }
}
