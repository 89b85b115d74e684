import Foundation

/// The outcome of one `gen` run.
struct GenResult { var status: Int32; var stdout: String; var stderr: String }

/// Runs the built `gen` to completion, capturing both streams (shared by every genTests file).
enum GenRunner {
    static func run(_ args: [String], cwd: URL = CLITests.root,
                    env: [String: String] = [:]) throws -> GenResult {
        let p = Process()
        p.executableURL = CLITests.genBinary
        p.arguments = args
        p.currentDirectoryURL = cwd
        if !env.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 } }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Drain stdout fully, then stderr: gen's stderr output is small (one error line).
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return GenResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: e, as: UTF8.self))
    }
}
