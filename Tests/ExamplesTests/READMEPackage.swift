import Foundation

/// The files of the README's "As a library" section: each ```swift block follows a line
/// "`<path>`:" naming the file it is.
enum READMEPackage {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    struct Problem: Error, CustomStringConvertible { let description: String }

    /// `(path, contents)` of every block of the section, in order.
    static func files() throws -> [(path: String, text: String)] {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        guard let start = readme.range(of: "\n## As a library\n") else { throw Problem(description: "README.md: no \"## As a library\" section") }
        let section = readme[start.upperBound...].components(separatedBy: "\n## ")[0]
        var files: [(String, String)] = []
        var lines = section.components(separatedBy: "\n")[...]
        var previous = ""
        while let line = lines.popFirst() {
            if line == "```swift" {
                guard previous.hasPrefix("`"), previous.hasSuffix("`:") else {
                    throw Problem(description: "README.md: a swift block without a \"`<path>`:\" line before it")
                }
                let body = lines.prefix { $0 != "```" }
                lines = lines.dropFirst(body.count + 1)
                files.append((String(previous.dropFirst().dropLast(2)), body.joined(separator: "\n") + "\n"))
            }
            if !line.isEmpty { previous = line }
        }
        return files
    }

    /// Writes the files into `directory/mnist-gan/` beside `directory/swift-generative`, a link
    /// to this repository (the folder name the README asks for). Unchanged files are left alone,
    /// so a second build is incremental.
    static func lay(out files: [(path: String, text: String)], in directory: URL) throws -> URL {
        let fm = FileManager.default
        let package = directory.appendingPathComponent("mnist-gan")
        let link = directory.appendingPathComponent("swift-generative")
        try fm.createDirectory(at: package, withIntermediateDirectories: true)
        if (try? fm.destinationOfSymbolicLink(atPath: link.path)) != root.path {
            try? fm.removeItem(at: link)
            try fm.createSymbolicLink(atPath: link.path, withDestinationPath: root.path)
        }
        for f in files {
            let url = package.appendingPathComponent(f.path)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            if (try? String(contentsOf: url, encoding: .utf8)) != f.text {
                try f.text.write(to: url, atomically: true, encoding: .utf8)
            }
        }
        return package
    }

    /// Runs `executable` with `arguments` in `directory`; returns its exit status and output
    /// (stdout then stderr).
    static func run(_ executable: String, _ arguments: [String], in directory: URL) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.currentDirectoryURL = directory
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("readme-package-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)   // FileHandle below fails loudly if not
        defer { try? FileManager.default.removeItem(at: out) }
        let handle = try FileHandle(forWritingTo: out)
        p.standardOutput = handle
        p.standardError = handle
        try p.run()
        p.waitUntilExit()
        try handle.close()
        return (p.terminationStatus, try String(contentsOf: out, encoding: .utf8))
    }
}
