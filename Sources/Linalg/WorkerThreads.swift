import COpenBLAS
import Foundation
import Synchronization

/// How `gemm` uses more than one core.
public enum GEMMThreading: Sendable, Equatable {
    /// OpenBLAS's own thread pool (`openblas_set_num_threads(n)`). OpenBLAS 0.3.21 mallocs a
    /// 512 KiB job array on every multi-threaded call.
    case openBLAS(threads: Int)
    /// OpenBLAS single-threaded, with each large enough product split by rows of `C` over
    /// `threads` threads of our own (the caller's plus `threads - 1` persistent workers that
    /// spin briefly, then sleep). No heap allocation per call.
    case rowSplit(threads: Int)

    var threads: Int {
        switch self {
        case .openBLAS(let t), .rowSplit(let t): return t
        }
    }
}

/// One `cblas_sgemm` call's arguments, for a slice of `C`'s rows.
@usableFromInline
struct GEMMCall {
    var transA: Bool, transB: Bool
    var m: Int, n: Int, k: Int
    var alpha: Float, beta: Float
    var a: UnsafePointer<Float>, lda: Int
    var b: UnsafePointer<Float>, ldb: Int
    var c: UnsafeMutablePointer<Float>, ldc: Int

    /// Rows `start..<end` of `C` (and the matching rows of `op(A)`).
    func rows(_ start: Int, _ end: Int) -> GEMMCall {
        var s = self
        s.m = end - start
        // op(A) row r is A's row r (no transpose) or A's column r (transpose).
        s.a = transA ? a + start : a + start * lda
        s.c = c + start * ldc
        return s
    }

    func run() {
        if m == 0 { return }
        if SmallKernelGuard.isActive && SmallKernelGuard.applies(to: self) { return SmallKernelGuard.runSplit(self) }
        if OwnKernelGEMM.applies(to: self) { return OwnKernelGEMM.run(self) }
        runOpenBLAS()
    }

    /// The call on OpenBLAS itself, whatever `run()` would pick (the roofline's OpenBLAS figures).
    func runOpenBLAS() {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda),
                    b, blasint(ldb), beta, c, blasint(ldc))
    }
}

/// A slice of work for a worker: part of a gemm, or a range of a `ParallelFor` loop.
enum WorkerJob {
    case gemm(GEMMCall)
    case range(body: @convention(c) (UnsafeMutableRawPointer, Int, Int) -> Void,
               context: UnsafeMutableRawPointer, start: Int, end: Int)
    /// Ends the worker's thread (its executor was replaced).
    case stop

    func run() {
        switch self {
        case .gemm(let call): call.run()
        case .range(let body, let context, let start, let end): body(context, start, end)
        case .stop: break
        }
    }
}

/// A persistent thread that runs one job per request.
final class GEMMWorker: @unchecked Sendable {
    /// Request generation: bumped by the caller after `job` is written.
    let requested = Atomic<Int>(0)
    /// Completed generation: set by the worker after its job is done.
    let completed = Atomic<Int>(0)
    let sleeping = Atomic<Bool>(false)
    let wake = DispatchSemaphore(value: 0)
    /// Written by the caller before `requested` is bumped, read by the worker after.
    var job: WorkerJob?

    init() {
        let thread = Thread { [self] in loop() }
        thread.name = "gemm-worker"
        thread.start()
    }

    private func loop() {
        var seen = 0
        while true {
            var spins = 0
            // Spin through the gaps of a training step, then sleep. The caller's serial passes
            // between products (loss, data, small layers) last up to a few hundred µs; a worker
            // asleep by then costs a wake-up (a futex, often tens of µs on a VM) at the next
            // product (measured: 20,000 spins left it asleep ~15 % of a large GAN step).
            while requested.load(ordering: .sequentiallyConsistent) == seen {
                spins += 1
                if spins < 400_000 { continue }
                sleeping.store(true, ordering: .sequentiallyConsistent)
                if requested.load(ordering: .sequentiallyConsistent) == seen { wake.wait() }
                sleeping.store(false, ordering: .sequentiallyConsistent)
                spins = 0
            }
            seen = requested.load(ordering: .sequentiallyConsistent)
            if case .stop = job { return }
            job?.run()
            completed.store(seen, ordering: .sequentiallyConsistent)
        }
    }

    func submit(_ j: WorkerJob, generation: Int) {
        job = j
        requested.store(generation, ordering: .sequentiallyConsistent)
        if sleeping.load(ordering: .sequentiallyConsistent) { wake.signal() }
    }

    func waitFor(generation: Int) {
        var spins = 0
        while completed.load(ordering: .sequentiallyConsistent) != generation {
            spins += 1
            // Yield the core if the worker was descheduled (a loaded machine).
            if spins > 4_000 { sched_yield() }
        }
    }
}

/// The row-split executor behind `GEMMThreading.rowSplit`, also used by `ParallelFor`.
final class RowSplitExecutor: @unchecked Sendable {
    let workers: [GEMMWorker]
    private var generation = 0
    private let lock = NSLock()

    init(threads: Int) {
        workers = (1..<Swift.max(threads, 1)).map { _ in GEMMWorker() }
    }

    /// Ends the worker threads when a new thread count replaces this executor.
    deinit {
        let g = next()
        for worker in workers { worker.submit(.stop, generation: g) }
    }

    /// Runs `call`, split over the caller and the workers when it is large enough to pay for
    /// the hand-off (>= 2 MFLOP and >= 16 rows per thread). Runs inline when another thread
    /// holds the executor.
    func run(_ call: GEMMCall) {
        let parts = workers.count + 1
        let flops = 2 * Double(call.m) * Double(call.n) * Double(call.k)
        guard parts > 1, flops >= 2e6, call.m >= 16 * parts, lock.try() else {
            call.run()
            return
        }
        defer { lock.unlock() }
        // Chunks rounded to multiples of 8 rows (whole SIMD tiles for OpenBLAS's kernels).
        let chunk = ((call.m + parts - 1) / parts + 7) & ~7
        let g = next()
        for (w, worker) in workers.enumerated() {
            let start = Swift.min((w + 1) * chunk, call.m)
            let end = Swift.min(start + chunk, call.m)
            worker.submit(.gemm(call.rows(start, end)), generation: g)
        }
        call.rows(0, Swift.min(chunk, call.m)).run()
        for worker in workers { worker.waitFor(generation: g) }
    }

    /// Runs `body(context, start, end)` over `0..<count` in equal contiguous parts, one per
    /// thread, when each part has at least `minimumPerThread` elements; inline otherwise.
    func parallelFor(count: Int, minimumPerThread: Int, context: UnsafeMutableRawPointer,
                     _ body: @convention(c) (UnsafeMutableRawPointer, Int, Int) -> Void) {
        let parts = workers.count + 1
        guard parts > 1, count >= minimumPerThread * parts, lock.try() else {
            body(context, 0, count)
            return
        }
        defer { lock.unlock() }
        // Parts rounded to multiples of 16 elements (whole SIMD vectors, separate cache lines).
        let chunk = ((count + parts - 1) / parts + 15) & ~15
        let g = next()
        for (w, worker) in workers.enumerated() {
            let start = Swift.min((w + 1) * chunk, count)
            let end = Swift.min(start + chunk, count)
            worker.submit(.range(body: body, context: context, start: start, end: end), generation: g)
        }
        body(context, 0, Swift.min(chunk, count))
        for worker in workers { worker.waitFor(generation: g) }
    }

    private func next() -> Int {
        generation &+= 1
        return generation
    }
}

/// Splits an element-wise loop over the threads of `GEMMThreading.rowSplit` (the caller's and
/// the persistent workers). No heap allocation: the body is a C function pointer and its data
/// is passed by pointer.
public enum ParallelFor {
    /// Runs `body(context, start, end)` over `0..<count`, split in contiguous parts over the
    /// gemm threads when row-split threading is active and each part gets at least
    /// `minimumPerThread` elements; otherwise one call `body(context, 0, count)`. Parts may run
    /// concurrently, so they must touch disjoint memory.
    public static func run(count: Int, minimumPerThread: Int = 32_768,
                           context: UnsafeMutableRawPointer,
                           _ body: @convention(c) (UnsafeMutableRawPointer, Int, Int) -> Void) {
        // Fewer than two parts' worth: inline, before taking the executor's lock (small passes
        // are the common case).
        if count >= 2 * minimumPerThread, GEMMThreadingState.rowSplitActive.load(ordering: .relaxed),
           let e = GEMMThreadingState.executor.withLock({ $0 }) {
            e.parallelFor(count: count, minimumPerThread: minimumPerThread, context: context, body)
        } else {
            body(context, 0, count)
        }
    }
}

/// The process-wide gemm threading (like OpenBLAS's own thread count, which is global too).
enum GEMMThreadingState {
    static let mode = Mutex<GEMMThreading>(.openBLAS(threads: Int(openblas_get_num_threads())))
    static let executor = Mutex<RowSplitExecutor?>(nil)
    /// 0 when gemm calls OpenBLAS directly; set while a row-split executor is active, so the
    /// hot path reads one atomic instead of taking a lock.
    static let rowSplitActive = Atomic<Bool>(false)

    static func set(_ m: GEMMThreading) {
        mode.withLock { $0 = m }
        switch m {
        case .openBLAS(let t):
            rowSplitActive.store(false, ordering: .sequentiallyConsistent)
            openblas_set_num_threads(Int32(Swift.max(1, t)))
        case .rowSplit(let t):
            openblas_set_num_threads(1)
            executor.withLock { e in
                if e == nil || e!.workers.count + 1 != Swift.max(t, 1) { e = RowSplitExecutor(threads: t) }
            }
            rowSplitActive.store(t > 1, ordering: .sequentiallyConsistent)
        }
    }

    /// Runs one gemm call under the current mode.
    @usableFromInline
    static func run(_ call: GEMMCall) {
        if rowSplitActive.load(ordering: .relaxed), let e = executor.withLock({ $0 }) {
            e.run(call)
        } else {
            call.run()
        }
    }
}
