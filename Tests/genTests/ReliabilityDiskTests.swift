import Foundation
import XCTest

/// A full disk or a read-only run directory: a clear error naming the file, exit code 73, the
/// previous checkpoint intact and no temporary files left. Uses a 1 MB tmpfs (needs root and
/// mount permission; skipped otherwise). As root, permission bits do not stop writes, so the
/// read-only case remounts the tmpfs read-only.
final class ReliabilityDiskTests: XCTestCase {
    var mountPoint: URL!

    override func setUpWithError() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to mount a tmpfs") }
        mountPoint = try Reliability.temporaryDirectory("disk")
        guard shell("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint.path) == 0 else {
            try? FileManager.default.removeItem(at: mountPoint)
            throw XCTSkip("cannot mount a tmpfs here")
        }
    }

    override func tearDownWithError() throws {
        guard let mountPoint else { return }
        _ = shell("umount", "-R", mountPoint.path)
        try? FileManager.default.removeItem(at: mountPoint)
    }

    private func shell(_ args: String...) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return -1 }
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// A one-epoch run on the tmpfs, then the file system is filled (or made read-only) and
    /// the run resumed for another epoch: it must fail cleanly.
    private func checkFailure(fill: Bool, mentions needle: String) throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("disk-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: data) }
        try Reliability.writeCSV(rows: 64, cols: 64, to: data)
        let run = mountPoint.appendingPathComponent("run")
        var r = try Reliability.gen(Reliability.tinyRun("gan", data: data, out: run, epochs: 1, batch: 64))
        XCTAssertEqual(r.status, 0, r.stderr)
        let ckpt = run.appendingPathComponent("checkpoints/step-00000001")
        let saved = try Reliability.tensorBits(ckpt)
        let metrics = try Data(contentsOf: run.appendingPathComponent("metrics.csv"))
        if fill {
            // Fill every remaining byte (the write stops at ENOSPC).
            let filler = mountPoint.appendingPathComponent("filler")
            XCTAssertTrue(FileManager.default.createFile(atPath: filler.path, contents: nil))
            let h = try FileHandle(forWritingTo: filler)
            let block = Data(count: 4096)
            while (try? h.write(contentsOf: block)) != nil {}
            try? h.close()
        } else {
            XCTAssertEqual(shell("mount", "-o", "remount,ro", mountPoint.path), 0)
        }
        r = try Reliability.gen(["train", "--resume", run.path, "--epochs", "2"])
        XCTAssertEqual(r.status, 73, r.stdout + r.stderr)  // cannot write output
        XCTAssertTrue(r.stderr.contains(needle), r.stderr)
        XCTAssertTrue(r.stderr.contains(run.path), "the error names the file: \(r.stderr)")
        XCTAssertFalse(r.stderr.contains("Fatal error"), r.stderr)
        // The previous checkpoint and metrics are intact; nothing half-written is left.
        XCTAssertNil(Reliability.loadCheckpoint(ckpt))
        XCTAssertEqual(try Reliability.tensorBits(ckpt), saved)
        XCTAssertEqual(try Data(contentsOf: run.appendingPathComponent("metrics.csv")), metrics)
        let names = try FileManager.default.subpathsOfDirectory(atPath: run.path)
        XCTAssertEqual(names.filter { $0.contains(".tmp-") }, [], "temporary files left behind")
    }

    /// The disk fills up while the checkpoint itself is written (metrics.csv, on another file
    /// system here, still fits): a second 1 MB tmpfs holds only checkpoints/, filled after the
    /// first epoch's checkpoint is copied onto it.
    func testFullDiskDuringCheckpointWrite() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("disk-\(UUID().uuidString).csv")
        defer { try? FileManager.default.removeItem(at: data) }
        try Reliability.writeCSV(rows: 64, cols: 64, to: data)
        let run = mountPoint.appendingPathComponent("run")
        var r = try Reliability.gen(Reliability.tinyRun("gan", data: data, out: run, epochs: 1, batch: 64))
        XCTAssertEqual(r.status, 0, r.stderr)
        let checkpoints = run.appendingPathComponent("checkpoints")
        let saved = mountPoint.appendingPathComponent("saved")
        try FileManager.default.moveItem(at: checkpoints, to: saved)
        try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: false)
        XCTAssertEqual(shell("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", checkpoints.path), 0)
        try FileManager.default.copyItem(at: saved.appendingPathComponent("step-00000001"),
                                         to: checkpoints.appendingPathComponent("step-00000001"))
        let ckpt = checkpoints.appendingPathComponent("step-00000001")
        let before = try Reliability.tensorBits(ckpt)
        let filler = checkpoints.appendingPathComponent("filler")
        XCTAssertTrue(FileManager.default.createFile(atPath: filler.path, contents: nil))
        let h = try FileHandle(forWritingTo: filler)
        while (try? h.write(contentsOf: Data(count: 4096))) != nil {}
        try? h.close()

        r = try Reliability.gen(["train", "--resume", run.path, "--epochs", "2"])
        XCTAssertEqual(r.status, 73, r.stdout + r.stderr)  // cannot write output
        XCTAssertTrue(r.stderr.contains("step-00000002: cannot write checkpoint")
                      && r.stderr.contains("No space left on device"), r.stderr)
        XCTAssertNil(Reliability.loadCheckpoint(ckpt))
        XCTAssertEqual(try Reliability.tensorBits(ckpt), before)
        let left = try FileManager.default.contentsOfDirectory(atPath: checkpoints.path).sorted()
        XCTAssertEqual(left, ["filler", "step-00000001"], "no partial checkpoint or temporary directory left")
    }

    func testFullDisk() throws {
        try checkFailure(fill: true, mentions: "No space left on device")
    }

    func testReadOnlyRunDirectory() throws {
        try checkFailure(fill: false, mentions: "Read-only file system")
    }
}
