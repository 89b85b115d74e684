import Foundation
import Generative
import NN
import Training
import XCTest

/// Shared by the Reliability* tests: runs `gen` (optionally in the background, with extra
/// environment), writes tiny CSV data sets, and checks that a checkpoint directory loads.
enum Reliability {
    typealias Result = GenResult

    /// Runs `gen args` to completion.
    static func gen(_ args: [String], env: [String: String] = [:]) throws -> Result {
        try GenRunner.run(args, env: env)
    }

    /// Starts `gen args` with stdout and stderr on pipes (the caller drains or discards them).
    static func start(_ args: [String], env: [String: String] = [:], quiet: Bool = false) throws -> Process {
        let p = Process()
        p.executableURL = CLITests.genBinary
        p.arguments = args
        p.currentDirectoryURL = CLITests.root
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        if quiet {
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
        } else {
            p.standardOutput = Pipe()
            p.standardError = Pipe()
        }
        try p.run()
        return p
    }

    /// `rows x cols` values in [0, 1] from a fixed formula (no randomness), as CSV.
    static func writeCSV(rows: Int, cols: Int, to url: URL) throws {
        var text = ""
        for i in 0..<rows {
            var fields: [String] = []
            for j in 0..<cols {
                let phase: Double = Double(i) * 0.37 + Double(j) * 0.11
                fields.append(String(format: "%.4f", (sin(phase) + 1) / 2))
            }
            text += fields.joined(separator: ",") + "\n"
        }
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// The flags of a tiny GAN (or VAE) on `data`: 1 thread, no sample grids or step rows
    /// except where the caller overrides them.
    static func tinyRun(_ model: String, data: URL, out: URL, epochs: Int, batch: Int) -> [String] {
        ["train", model, "--data", data.path, "--epochs", String(epochs), "--batch-size", String(batch),
         "--hidden", "16", "--latent-dim", "4", "--threads", "1", "--sample-every", "1000",
         "--log-every", "100000", "--out", out.path]
    }

    /// Everything a resume reads from a checkpoint directory, or the first error: state.json,
    /// config.json, and every `.safetensors` file (with at least one tensor each).
    static func loadCheckpoint(_ dir: URL) -> String? {
        do {
            _ = try Checkpoint.readState(in: dir)
            let cfg = try Data(contentsOf: dir.appendingPathComponent("config.json"))
            _ = try JSONSerialization.jsonObject(with: cfg)
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".safetensors") }
            guard files.count >= 2 else { return "\(dir.path): \(files.count) safetensors files" }
            for f in files {
                let t = try SafeTensors.read(from: dir.appendingPathComponent(f))
                if t.tensors.isEmpty { return "\(dir.path)/\(f): no tensors" }
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The bit patterns of every tensor of every safetensors file in `dir`, by "file/tensor".
    static func tensorBits(_ dir: URL) throws -> [String: [UInt32]] {
        var out: [String: [UInt32]] = [:]
        for f in try FileManager.default.contentsOfDirectory(atPath: dir.path) where f.hasSuffix(".safetensors") {
            for (name, m) in try SafeTensors.read(from: dir.appendingPathComponent(f)).tensors {
                out[f + "/" + name] = m.withUnsafeBufferPointer { $0.map(\.bitPattern) }
            }
        }
        return out
    }

    /// The `epoch` rows of a run's metrics.csv without the timing columns (samples_per_sec,
    /// elapsed_s).
    static func epochRows(_ run: URL) throws -> [[String]] {
        let text = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let timing = Set(["samples_per_sec", "elapsed_s"].compactMap { lines.first?.firstIndex(of: $0) })
        return lines.filter { $0.first == "epoch" }
            .map { $0.enumerated().filter { !timing.contains($0.offset) }.map(\.element) }
    }

    static func temporaryDirectory(_ tag: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gen-\(tag)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
