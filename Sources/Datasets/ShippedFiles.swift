import Foundation

/// Finds the files the package ships (`data/mnist`, `models/mnist-classifier.safetensors`) from
/// any working directory, so a binary run from the home directory still finds them.
///
/// A relative path such as `data/mnist` is looked up under these roots, first match wins:
/// 1. `$GEN_HOME` (`homeVariable`), when set: a directory laid out like the package (`data/`, `models/`);
/// 2. the current directory (the package root when run from there, e.g. `swift run`);
/// 3. the directory of the running executable and its ancestors, up to `executableLevels`
///    levels, symlinks resolved (`.build/release/gen` is
///    `.build/<triple>/release/gen`, three levels below the package root);
/// 4. the package source tree this library was compiled from (`#filePath`), a last resort for
///    a binary copied elsewhere on the machine that built it.
///
/// Explicit paths (a command's `--data`/`--classifier`) come before all of these; that is the
/// caller's business.
public enum ShippedFiles {
    /// The environment variable naming a package-like directory searched first.
    public static let homeVariable = "GEN_HOME"
    /// How many ancestors of the executable's directory are searched.
    public static let executableLevels = 4

    /// One place searched: its directory and how it was found (for messages).
    public struct Root: Sendable, Equatable {
        public let directory: URL
        public let origin: String
    }

    /// The roots in search order (duplicates removed); see the type's documentation.
    public static func searchRoots() -> [Root] {
        var roots: [Root] = []
        if let home = ProcessInfo.processInfo.environment[homeVariable], !home.isEmpty {
            roots.append(Root(directory: URL(fileURLWithPath: home), origin: "$\(homeVariable)"))
        }
        roots.append(Root(directory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                          origin: "the current directory"))
        if let exe = executableURL() {
            var dir = exe.deletingLastPathComponent()
            for _ in 0...executableLevels {
                roots.append(Root(directory: dir, origin: "the executable's location"))
                guard dir.path != "/" else { break }
                dir.deleteLastPathComponent()
            }
        }
        roots.append(Root(directory: sourceTreeRoot, origin: "the source tree"))
        var seen = Set<String>()
        return roots.filter { seen.insert($0.directory.standardizedFileURL.path).inserted }
    }

    /// The first existing `relativePath` under `searchRoots()` that is a directory (when
    /// `directory` is true) or a regular file; nil when none is.
    public static func locate(_ relativePath: String, directory: Bool) -> URL? {
        for root in searchRoots() {
            let url = root.directory.appendingPathComponent(relativePath, isDirectory: directory)
            if exists(url, directory: directory) { return url.standardizedFileURL }
        }
        return nil
    }

    /// `$GEN_HOME` as set, when it is set but holds no `relativePath` (a directory when
    /// `directory` is true, else a regular file): `locate` then went on to the next place, which
    /// a caller may want to say.
    public static func homeLacking(_ relativePath: String, directory: Bool) -> String? {
        guard let home = ProcessInfo.processInfo.environment[homeVariable], !home.isEmpty else { return nil }
        let url = URL(fileURLWithPath: home).appendingPathComponent(relativePath, isDirectory: directory)
        return exists(url, directory: directory) ? nil : home
    }

    /// Whether `url` exists and is a directory (`directory`) or not.
    private static func exists(_ url: URL, directory: Bool) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue == directory
    }

    /// Where a failed `locate` looked, as one phrase: "$GEN_HOME (unset), the current directory
    /// /home/u, /opt/gen/bin and its 4 parents (the executable's location), the source tree /src".
    public static func searchedPlaces() -> String {
        var parts: [String] = []
        let home = ProcessInfo.processInfo.environment[homeVariable] ?? ""
        parts.append(home.isEmpty ? "$\(homeVariable) (unset)" : "$\(homeVariable)=\(home)")
        parts.append("the current directory \(FileManager.default.currentDirectoryPath)")
        if let exe = executableURL() {
            parts.append("\(exe.deletingLastPathComponent().path) and its \(executableLevels) parents (the executable's location)")
        }
        parts.append("the source tree \(sourceTreeRoot.path)")
        return parts.joined(separator: ", ")
    }

    /// The running executable, symlinks resolved (Linux: /proc/self/exe), else argv[0].
    static func executableURL() -> URL? {
        let fm = FileManager.default
        if let target = try? fm.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: target)
        }
        guard let arg0 = CommandLine.arguments.first, arg0.contains("/") else { return nil }
        return URL(fileURLWithPath: arg0).resolvingSymlinksInPath()
    }

    /// The package root of this source file (Sources/Datasets/ShippedFiles.swift).
    static let sourceTreeRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}
