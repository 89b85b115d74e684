import Linalg

/// What `gen bench` compares a step's GFLOP/s with, measured before the first model and after
/// each (`higher(_:)` of the readings around a model is its reference).
struct BenchRooflines {
    /// OpenBLAS's own `threads`-thread sgemm on one 1024³ product (GFLOP/s).
    var openBLASThreaded: Double
    /// The cores' roofline (GFLOP/s): one single-threaded 1024³ sgemm stream per thread, all at
    /// once, by the faster of OpenBLAS's kernels and ours (where ours run: AVX-512F).
    var cores: Double
    /// Which kernel gave `cores`.
    var coresKernel: RooflineKernel

    /// Measures both; leaves `BLASThreads` at single-threaded OpenBLAS (callers restore theirs).
    ///
    /// Why the faster of two: the roofline is what the cores can do, and OpenBLAS's kernels
    /// are not always the CPU's best. OpenBLAS 0.3.21 runs its SSE3 `Prescott` kernels on a
    /// CPU it does not know (an Intel model 207: 32 GFLOP/s per core, against 160 from its
    /// `Cooperlake` kernels there and about as much from ours), which would make any step look
    /// close to the limit.
    static func measure(threads: Int) -> BenchRooflines {
        BLASThreads.set(.openBLAS(threads: threads))
        let threaded = measureSgemmGFLOPS(n: 1024, repetitions: 5)
        var best = (gflops: measureParallelSgemmGFLOPS(streams: threads, n: 1024, repetitions: 5),
                    kernel: RooflineKernel.openBLAS)
        if PackedPanels.isAvailable {
            let ours = measureParallelSgemmGFLOPS(streams: threads, n: 1024, repetitions: 5, kernel: .packed)
            if ours > best.gflops { best = (ours, .packed) }
        }
        return BenchRooflines(openBLASThreaded: threaded, cores: best.gflops, coresKernel: best.kernel)
    }

    /// Each roofline's higher reading of `self` and `other` (with the kernel that gave it).
    ///
    /// Why the higher: a roofline is what the cores can do; one taken while the host runs other
    /// work reads low (a 2-core Intel model 207 read 196.9 GFLOP/s in one run and 417.6 twenty
    /// seconds later), and a step measured after it then showed 113.9 % of it.
    func higher(_ other: BenchRooflines) -> BenchRooflines {
        let best = other.cores > cores ? (other.cores, other.coresKernel) : (cores, coresKernel)
        return BenchRooflines(openBLASThreaded: Swift.max(openBLASThreaded, other.openBLASThreaded),
                              cores: best.0, coresKernel: best.1)
    }

    /// `cores`' kernel for a reader: `ours` or `OpenBLAS <core>`.
    var coresKernelName: String { coresKernel == .packed ? "ours" : "OpenBLAS \(OpenBLASCore.name)" }
}
