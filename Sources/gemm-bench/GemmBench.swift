import ArgumentParser
import Foundation
import Linalg

/// gemm throughput: `Linalg.gemm` on `Matrix` versus a direct `cblas_sgemm` call, same process,
/// alternating, on square sizes and the Dense-layer shapes at batch 128.
@main
struct GemmBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm-bench",
        abstract: "GFLOP/s of Linalg.gemm (Matrix) vs direct cblas_sgemm, alternating A B A B.")

    @Option(help: "OpenBLAS threads (default: OpenBLAS's own choice).")
    var threads: Int?

    @Option(help: "Comma-separated square sizes (default 32,64,128,256,512,1024,2048).")
    var sizes: String?

    @Option(name: .customLong("repeat"), help: "Timed repetitions per implementation; medians are reported.")
    var repetitions: Int = 5

    @Option(help: "Minimum seconds per timed repetition (iterations are calibrated to reach it).")
    var minSeconds: Double = 0.05

    @Flag(help: "Print a JSON array (one object per shape) instead of the table.")
    var json = false

    @Flag(help: "Skip the Dense shapes (square sizes only).")
    var noDense = false

    @Flag(help: "Exit with status 1 when a floor (Matrix >= 0.98 x cblas) is missed.")
    var checkFloors = false

    @Option(help: "Only the shapes whose name contains this text (e.g. 'dense', 'square 512').")
    var only: String?

    @Option(help: ArgumentHelp(
        "Exactly N calls per repetition (no calibration); skips the 1x1x1 and allocation checks.",
        discussion: "For instruction counts under valgrind --tool=callgrind (timeMatrix vs timeCBLAS)."))
    var fixedIterations: Int?

    /// Matrix gemm must reach this fraction of direct cblas at sizes >= 64 and Dense shapes.
    static let floor = 0.98

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1") }
        if let f = fixedIterations, f < 1 { throw ValidationError("--fixed-iterations must be at least 1") }
        if repetitions < 1 { throw ValidationError("--repeat must be at least 1") }
        if minSeconds <= 0 { throw ValidationError("--min-seconds must be positive") }
        _ = try squareSizes()
    }

    func squareSizes() throws -> [Int] {
        guard let sizes else { return [32, 64, 128, 256, 512, 1024, 2048] }
        let parts = sizes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Int($0) }
        guard values.count == parts.count, !values.isEmpty, values.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--sizes must be positive integers separated by commas, got '\(sizes)'")
        }
        return values
    }

    func run() throws {
        if let threads { BLASThreads.set(threads) }
        let threadCount = BLASThreads.count
        var rng = Xoshiro256(seed: 2024)
        let shapes = try selectedShapes()
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?
            .split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        if !json {
            print("gemm-bench: OpenBLAS threads \(threadCount) (processors \(BLASThreads.processors)), "
                  + "repeat \(repetitions), >= \(Int(minSeconds * 1000)) ms per repetition, load \(load)")
            print("Matrix = Linalg.gemm into a preallocated Matrix; cblas = cblas_sgemm on raw pointers; "
                  + "timed alternately in blocks (A B B A A B ...), iters = calls per repetition each; GFLOP/s are medians, ratio = median of per-pair ratios.")
        }
        var results: [Result] = []
        for shape in shapes {
            let r = measure(shape, repetitions: repetitions, minSeconds: minSeconds,
                            fixedIterations: fixedIterations, rng: &rng)
            results.append(r)
            if !json {
                FileHandle.standardError.write(Data(
                    "  measured \(shape.name): \(fmt(r.matrixMedian)) / \(fmt(r.cblasMedian)) GFLOP/s\n".utf8))
            }
        }
        let missed = results.filter { GemmBench.floorApplies($0) && $0.ratio < GemmBench.floor }
        if fixedIterations != nil {
            if json { printJSON(results, threads: threadCount, peak: .nan, largest: 0,
                                floorApplies: GemmBench.floorApplies, load: load) }
            else { printTable(results, threads: threadCount, peak: .nan, floorApplies: GemmBench.floorApplies) }
            return
        }
        let overheadLine = wrapperOverheadLine(results, rng: &rng)
        let alloc = checkGemmAllocations(rng: &rng)
        report(results, missed: missed, threads: threadCount, load: load, overheadLine: overheadLine, alloc: alloc)
        if checkFloors && (!missed.isEmpty || alloc.wrapperAllocations != 0) { throw ExitCode(1) }
    }

    /// The square sizes and (unless --no-dense) the Dense shapes, filtered by --only.
    func selectedShapes() throws -> [Shape] {
        var shapes = try squareSizes().map(Shape.square)
        if !noDense { shapes += Shape.dense }
        if let only { shapes = shapes.filter { $0.name.contains(only) } }
        if shapes.isEmpty { throw ValidationError("no shape matches --only '\(only ?? "")'") }
        return shapes
    }

    /// The floor applies to square sizes from 64 and to every Dense shape.
    static func floorApplies(_ r: Result) -> Bool {
        r.shape.name.hasPrefix("square") ? r.shape.m >= 64 : true
    }

    /// Peak: the best median measured at the largest square size of this run (with --only
    /// excluding every square size: the best median of the run), and that size (0: none).
    static func peak(_ results: [Result]) -> (gflops: Double, largest: Int) {
        let measuredSquares = results.filter { $0.shape.name == Shape.square($0.shape.m).name }
        let largest = measuredSquares.map(\.shape.m).max() ?? 0
        let peakRows = largest > 0 ? measuredSquares.filter { $0.shape.m == largest } : results
        return (peakRows.map { Swift.max($0.matrixMedian, $0.cblasMedian) }.max() ?? .nan, largest)
    }

    /// The wrapper's own cost per call, where the gemm itself is negligible (1x1x1).
    func wrapperOverheadLine(_ results: [Result], rng: inout Xoshiro256) -> String {
        let tiny = measure(Shape(name: "1x1x1", m: 1, n: 1, k: 1, transposeA: false, transposeB: false),
                           repetitions: Swift.max(repetitions, 5), minSeconds: minSeconds, rng: &rng)
        let overhead = tiny.matrixNanosPerCall - tiny.cblasNanosPerCall
        let shortest = results.filter(GemmBench.floorApplies).min { $0.cblasNanosPerCall < $1.cblasNanosPerCall }
        return "Matrix wrapper cost per call (1x1x1 gemm): \(fmt(tiny.matrixNanosPerCall)) ns vs "
            + "\(fmt(tiny.cblasNanosPerCall)) ns direct, difference \(fmt(overhead)) ns"
            + (shortest.map {
                " = \(String(format: "%.3f", 100 * Swift.max(overhead, 0) / $0.cblasNanosPerCall))% of the "
                    + "shortest floor-checked call (\($0.shape.name), \(fmt($0.cblasNanosPerCall / 1000)) µs)"
            } ?? "")
    }

    /// Prints the results as JSON or as the table with peak, floor, overhead and allocations.
    func report(_ results: [Result], missed: [Result], threads: Int, load: String, overheadLine: String,
                alloc: AllocationReport) {
        let (peak, largest) = GemmBench.peak(results)
        if json {
            printJSON(results, threads: threads, peak: peak, largest: largest,
                      floorApplies: GemmBench.floorApplies, load: load)
            FileHandle.standardError.write(Data((overheadLine + "\n" + allocationLine(alloc) + "\n").utf8))
            return
        }
        printTable(results, threads: threads, peak: peak, floorApplies: GemmBench.floorApplies)
        print("peak = \(fmt(peak)) GFLOP/s: the best median measured "
              + (largest > 0 ? "at the largest size in this run (\(largest)x\(largest)x\(largest))"
                             : "in this run (no square size measured)")
              + ", not a datasheet figure.")
        print("floor Matrix >= \(GemmBench.floor) x cblas at sizes >= 64 and Dense shapes: "
              + (missed.isEmpty ? "met on every shape"
                 : "MISSED on " + missed.map { "\($0.shape.name) (\(fmt3($0.ratio)))" }.joined(separator: ", ")))
        print(overheadLine)
        print(allocationLine(alloc))
    }

    func allocationLine(_ a: AllocationReport) -> String {
        guard a.interposerActive else {
            return "heap allocations: NOT CHECKED (malloc-interposer saw no allocation in the control "
                + "matmul; run with LD_PRELOAD=<build dir>/libMallocInterposerSwift.so)"
        }
        var text = "heap allocations (malloc-interposer, all threads) in \(a.calls) calls over 4 shapes: "
            + "Linalg.gemm into a preallocated Matrix: \(a.gemmAllocations) (\(a.gemmBytes) bytes); "
            + "direct cblas_sgemm: \(a.cblasAllocations) (\(a.cblasBytes) bytes); "
            + "added by the Matrix wrapper: \(a.wrapperAllocations)"
            + (a.wrapperAllocations == 0 ? " (none)" : " (EXPECTED 0)")
            + "; control (matmul, allocates its result): \(a.controlAllocations)"
        if a.cblasAllocations > 0 {
            text += "\n  note: OpenBLAS itself allocates in its multi-threaded gemm path "
                + "(\(a.cblasBytes / Swift.max(a.cblasAllocations, 1)) bytes per allocation); with --threads 1 it allocates nothing"
        }
        return text
    }

    func printTable(_ results: [Result], threads: Int, peak: Double, floorApplies: (Result) -> Bool) {
        let header = ["shape", "m", "n", "k", "iters", "Matrix GF/s", "cblas GF/s", "ratio",
                      "threads", "% peak", "floor"]
        var rows: [[String]] = []
        for r in results {
            rows.append([r.shape.name, "\(r.shape.m)", "\(r.shape.n)", "\(r.shape.k)", "\(r.iterations)",
                         fmt(r.matrixMedian), fmt(r.cblasMedian), fmt3(r.ratio), "\(threads)",
                         fmt(100 * r.matrixMedian / peak),
                         floorApplies(r) ? (r.ratio >= GemmBench.floor ? "ok" : "MISSED") : "-"])
        }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max()! }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, s in
                let pad = String(repeating: " ", count: widths[i] - s.count)
                return i == 0 ? s + pad : pad + s
            }.joined(separator: "  ")
        }
        print(line(header))
        print(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        rows.forEach { print(line($0)) }
    }

    func printJSON(_ results: [Result], threads: Int, peak: Double, largest: Int,
                   floorApplies: (Result) -> Bool, load: String) {
        let objects: [[String: Any]] = results.map { r in
            [
                "name": r.shape.name, "m": r.shape.m, "n": r.shape.n, "k": r.shape.k,
                "transposeA": r.shape.transposeA, "transposeB": r.shape.transposeB,
                "iterations": r.iterations, "threads": threads,
                "matrix_gflops": r.matrixMedian, "cblas_gflops": r.cblasMedian, "ratio": r.ratio,
                "matrix_gflops_all": r.matrixGflops, "cblas_gflops_all": r.cblasGflops,
                "peak_gflops": peak, "peak_size": largest,
                "percent_of_peak": 100 * r.matrixMedian / peak,
                "floor_applies": floorApplies(r), "floor_met": r.ratio >= GemmBench.floor,
                "load": load,
            ]
        }
        // JSON has no NaN/inf: such figures (e.g. peak without a measured square size) become null.
        func clean(_ v: Any) -> Any {
            if let d = v as? Double { return d.isFinite ? d : NSNull() }
            if let a = v as? [Double] { return a.map(clean) }
            return v
        }
        let cleaned = objects.map { $0.mapValues(clean) }
        guard let data = try? JSONSerialization.data(withJSONObject: cleaned,
                                                     options: [.prettyPrinted, .sortedKeys]) else {
            FileHandle.standardError.write(Data("gemm-bench: could not encode the results as JSON\n".utf8))
            return
        }
        print(String(decoding: data, as: UTF8.self))
    }
}

func fmt(_ x: Double) -> String { x.isFinite ? String(format: "%.1f", x) : "-" }
func fmt3(_ x: Double) -> String { x.isFinite ? String(format: "%.3f", x) : "-" }
