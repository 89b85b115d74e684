import Foundation

/// How to run this `gen` again, for hints that must work when pasted into any shell in any
/// directory: the binary as invoked, made absolute (symlinks kept, so `.build/release/gen`
/// stays recognisable; `swift run` starts the binary by its absolute path), or the bare name
/// when the shell found it on PATH.
enum Invocation {
    static let command: String = {
        let arg0 = CommandLine.arguments.first ?? "gen"
        guard arg0.contains("/") else { return shellQuoted(arg0) }
        return shellQuoted(URL(fileURLWithPath: arg0).standardizedFileURL.path)
    }()

    /// `<gen> train --resume <absolute run directory>`, then `options` (flags the run used that
    /// config.json does not keep, such as `--threading batch-split`).
    /// Under mpirun: `mpirun -np <N> <gen> train --resume …` (any N resumes the run).
    static func resume(_ runDirectory: URL, options: [String] = []) -> String {
        let mpi = Launch.group.map { "mpirun -np \($0.size) " } ?? ""
        let tail = options.map { " " + shellQuoted($0) }.joined()
        return "\(mpi)\(command) train --resume \(shellQuoted(runDirectory.standardizedFileURL.path))\(tail)"
    }

    /// `s` as one shell word: unchanged when it holds only safe characters, else single-quoted.
    static func shellQuoted(_ s: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@%")
        if !s.isEmpty && s.unicodeScalars.allSatisfy({ safe.contains($0) }) { return s }
        return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
