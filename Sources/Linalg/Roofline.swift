import Foundation
import Synchronization

/// OpenBLAS's own sgemm under the current `BLASThreads` setting: GFLOP/s of `cblas_sgemm` on
/// `n x n` by `n x n` uniform matrices (`2 n³` flops per product), the best of `repetitions`
/// timings of 4 products each, after one untimed warm-up product. Calls OpenBLAS directly, not
/// `gemm`, which runs our kernel instead where OpenBLAS's are narrower (`OwnKernelGEMM`).
/// - Precondition: `n >= 1`, `repetitions >= 1`.
public func measureSgemmGFLOPS(n: Int = 1024, repetitions: Int = 5) -> Double {
    precondition(n >= 1 && repetitions >= 1, "measureSgemmGFLOPS: n \(n), repetitions \(repetitions)")
    var rng = Xoshiro256(seed: 1)
    let a = Matrix.uniform(rows: n, cols: n, using: &rng)
    let b = Matrix.uniform(rows: n, cols: n, using: &rng)
    var c = Matrix(rows: n, cols: n)
    openBLASProduct(a, b, into: &c)
    var best = 0.0
    for _ in 0..<repetitions {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<4 { openBLASProduct(a, b, into: &c) }
        let secs = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        best = max(best, 4 * 2 * Double(n) * Double(n) * Double(n) / secs / 1e9)
    }
    return best
}

/// Which sgemm a roofline stream runs.
public enum RooflineKernel: String, Sendable {
    /// OpenBLAS's single-threaded `cblas_sgemm` (its kernels follow `OPENBLAS_CORETYPE`),
    /// called directly (never `OwnKernelGEMM`).
    case openBLAS = "openblas"
    /// Our AVX-512 kernel over `B` packed once (`gemm(_:packed:into:)`), where available.
    case packed
}

/// The cores' sgemm roofline as what `streams` cores do at once: `streams` threads, each
/// multiplying its own `n x n` matrices single-threaded with `kernel`, started together; the
/// sum of their GFLOP/s (the best of `repetitions` rounds of 4 products each). Unlike
/// OpenBLAS's threaded call on one product (`measureSgemmGFLOPS` under `.openBLAS(threads:)`),
/// this pays no synchronisation inside a product: it is the limit a step whose threads work on
/// separate products could approach. Sets `BLASThreads` to single-threaded OpenBLAS (callers
/// restore their mode).
/// - Precondition: `streams >= 1`, `n >= 1`, `repetitions >= 1`; `.packed` only where
///   `PackedPanels.isAvailable`.
public func measureParallelSgemmGFLOPS(streams: Int, n: Int = 1024, repetitions: Int = 5,
                                       kernel: RooflineKernel = .openBLAS) -> Double {
    precondition(streams >= 1, "measureParallelSgemmGFLOPS: \(streams) streams")
    precondition(kernel == .openBLAS || PackedPanels.isAvailable, "measureParallelSgemmGFLOPS: no AVX-512F")
    BLASThreads.set(.openBLAS(threads: 1))
    var best = 0.0
    // Each round: all streams start together and each times its own 4 products.
    for _ in 0..<repetitions {
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        let slots = Mutex<[Double]>(Array(repeating: 0, count: streams))
        for s in 0..<streams {
            done.enter()
            Thread {
                var rng = Xoshiro256(seed: UInt64(1 + s))
                let a = Matrix.uniform(rows: n, cols: n, using: &rng)
                let b = Matrix.uniform(rows: n, cols: n, using: &rng)
                var c = Matrix(rows: n, cols: n)
                let product = rooflineProduct(kernel, b)
                product(a, &c)
                start.wait()
                let t0 = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<4 { product(a, &c) }
                let secs = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
                slots.withLock { $0[s] = 4 * 2 * Double(n) * Double(n) * Double(n) / secs / 1e9 }
                done.leave()
            }.start()
        }
        usleep(50_000)   // let every stream allocate and warm up before the start
        for _ in 0..<streams { start.signal() }
        done.wait()
        best = max(best, slots.withLock { $0.reduce(0, +) })
    }
    return best
}

/// `C = A B` by `kernel` (`B` packed here, once, for `.packed`).
private func rooflineProduct(_ kernel: RooflineKernel, _ b: Matrix) -> (Matrix, inout Matrix) -> Void {
    switch kernel {
    case .openBLAS:
        return { a, c in openBLASProduct(a, b, into: &c) }
    case .packed:
        let panels = PackedPanels(rows: b.rows, cols: b.cols)
        panels.packAll(b)
        return { a, c in gemm(a, packed: panels, into: &c) }
    }
}

/// `C = A B` by `cblas_sgemm` itself, whatever `gemm` would pick: a roofline labelled OpenBLAS
/// must time OpenBLAS's kernels (on a CPU where `gemm` runs `OwnKernelGEMM`, timing `gemm` had
/// reported our kernel's speed under OpenBLAS's name).
private func openBLASProduct(_ a: Matrix, _ b: Matrix, into c: inout Matrix) {
    let (m, k, n) = (a.rows, a.cols, b.cols)
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                GEMMCall(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, beta: 0,
                         a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n, c: pc.baseAddress!, ldc: n).runOpenBLAS()
            }
        }
    }
}
