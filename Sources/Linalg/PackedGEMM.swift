import CVectorMath

/// `C = A W` with `W` given as `PackedPanels`; `C`'s old contents are ignored (beta 0). Runs
/// our AVX-512 kernel (6 x 64 tiles over the panels; 12 x 32 over a last panel of at most 32
/// columns), its rows split over the threads of row-split gemm threading when the product is
/// large enough.
///
/// Shapes: `A` is `M x K`, `W` is `K x N` (`rows x cols`), `C` is `M x N`.
/// - Precondition: `PackedPanels.isAvailable`; the shapes agree.
public func gemm(_ a: Matrix, packed w: PackedPanels, into c: inout Matrix) {
    precondition(PackedPanels.isAvailable, "gemm(packed:): this CPU has no AVX-512F")
    precondition(a.cols == w.rows && c.rows == a.rows && c.cols == w.cols,
                 "gemm(packed:): A \(a.rows)x\(a.cols), W \(w.rows)x\(w.cols), C \(c.rows)x\(c.cols)")
    runKernel(a, UnsafePointer(w.panels), n: w.cols, into: &c)
}

/// The arguments of one product, passed to `ParallelFor`'s C-convention body.
private struct KernelJob {
    var n: Int, k: Int
    var a: UnsafePointer<Float>
    var panels: UnsafePointer<Float>
    var c: UnsafeMutablePointer<Float>
}

/// `C = A B` over `panels` (B `k x n`), `C`'s rows split over the row-split threads.
private func runKernel(_ a: Matrix, _ panels: UnsafePointer<Float>, n: Int, into c: inout Matrix) {
    let m = a.rows, k = a.cols
    if m == 0 { return }
    a.withUnsafeBufferPointer { pa in
        c.withUnsafeMutableBufferPointer { pc in
            var job = KernelJob(n: n, k: k, a: pa.baseAddress!, panels: panels, c: pc.baseAddress!)
            // ParallelFor's parts are multiples of 16 rows: whole tiles, no single rows (16 go
            // as 6 + 6 + 4 over a 64-column panel, 8 + 8 over a last one of at most 32). As the
            // row-split gemm does, a part must be worth the hand-off: 16 rows and about 1 MFLOP.
            let minimumRows = Swift.max(16, 500_000 / Swift.max(1, n * k))
            withUnsafeMutablePointer(to: &job) { ctx in
                ParallelFor.run(count: m, minimumPerThread: minimumRows, context: ctx) { raw, start, end in
                    let j = raw.assumingMemoryBound(to: KernelJob.self).pointee
                    pg_gemm_rows(Int32(start), Int32(end), Int32(j.n), Int32(j.k), j.a, Int32(j.k), j.panels,
                                 j.c, Int32(j.n))
                }
            }
        }
    }
}
