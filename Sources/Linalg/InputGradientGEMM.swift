import CVectorMath

/// The buffers of `gemmTransposedB`, kept between products: they grow when a product needs
/// more, so a steady training step allocates nothing.
public final class TransposedBScratch: @unchecked Sendable {
    /// `Aᵀ` packed into panels.
    let panels = PanelScratch()
    /// `Cᵀ` (`K x M`), before its transpose into `C`.
    let transposedOutput = PanelScratch()

    public init() {}
}

/// The arguments of one product, passed to `ParallelFor`'s C-convention body.
private struct TransposedBJob {
    var m: Int, n: Int
    /// `W` row-major (`ldw`), or with `wRows` > 0 `W`'s own panels (`wRows` rows).
    var w: UnsafePointer<Float>, ldw: Int, wRows: Int
    var panels: UnsafePointer<Float>
    var ct: UnsafeMutablePointer<Float>
    var c: UnsafeMutablePointer<Float>, ldc: Int
}

/// Rows of `W` per block of `gemmTransposedB`: each block's product runs over every panel of
/// `Aᵀ` (one per 64 rows of `A`), so the block is read from memory once and from L2 after
/// (48 rows of a 1024-column weight: 192 KB); its rows of `Cᵀ` are transposed into `C` right
/// after, while they are in L1.
private let transposedBBlockRows = 48

/// `C = A Wᵀ` (a Dense layer's `dX = dZ Wᵀ` over row-major `W`; Dense itself reads `W`'s
/// panels, `gemmTransposedB(_:packed:into:scratch:)`, tested against this one), computed as
/// `Cᵀ = W Aᵀ` by the AVX-512 kernel of `gemm(_:packed:into:)`: `Aᵀ` packed into panels (a
/// batch's rows: `M` columns), `W` read in place, a block of rows at a time, each block of `Cᵀ`
/// transposed into `C`; `W`'s rows split over the row-split threads when large; `C`'s old
/// contents are ignored (beta 0).
///
/// Why: the weight is then read as it is stored, so it needs no second packed form (`Wᵀ`'s
/// panels, repacked after every update); what is transposed instead is the batch's `A` and `C`
/// (`M (N + K)` elements against `W`'s `N K`), while they are in cache. Each element of `C`
/// sums `A[i, n] W[k, n]` over `n` in order, as the kernel over `Wᵀ`'s panels does: the same
/// bits.
///
/// Shapes: `A` is `M x N`, `W` is `K x N`, `C` is `M x K`.
/// - Precondition: `PackedPanels.isAvailable`; the shapes agree.
public func gemmTransposedB(_ a: Matrix, _ w: Matrix, into c: inout Matrix, scratch: TransposedBScratch) {
    precondition(PackedPanels.isAvailable, "gemmTransposedB: this CPU has no AVX-512F")
    precondition(a.cols == w.cols && c.rows == a.rows && c.cols == w.rows,
                 "gemmTransposedB: A \(a.rows)x\(a.cols), W \(w.rows)x\(w.cols), C \(c.rows)x\(c.cols)")
    w.withUnsafeBufferPointer { pw in
        transposedBProduct(a, w: pw.baseAddress!, ldw: w.leadingDimension, wRows: 0, k: w.rows, into: &c,
                           scratch: scratch)
    }
}

/// `gemmTransposedB` with `W` read from its panels (`gemm(_:packed:into:)`'s, as a Dense layer's
/// forward uses them) instead of row-major: chunk by chunk, 64 columns of `W` a panel, each
/// tile prefetching its rows' next chunk. The same bits as `gemmTransposedB(_:_:into:scratch:)`
/// over the `W` the panels hold. Why: measured at the large GAN's `dX` shapes on an Intel Xeon
/// model 207 (scripts/gemm-kernel-prototypes/step_shapes.c), 0.98x the time of reading `W`
/// row-major; and a training step whose products all read the panels leaves the row-major
/// copy to the optimiser alone.
///
/// Shapes: `A` is `M x N`, `W` (the panels') is `K x N`, `C` is `M x K`.
/// - Precondition: `PackedPanels.isAvailable`; the shapes agree.
public func gemmTransposedB(_ a: Matrix, packed w: PackedPanels, into c: inout Matrix, scratch: TransposedBScratch) {
    precondition(PackedPanels.isAvailable, "gemmTransposedB: this CPU has no AVX-512F")
    precondition(a.cols == w.cols && c.rows == a.rows && c.cols == w.rows,
                 "gemmTransposedB: A \(a.rows)x\(a.cols), W \(w.rows)x\(w.cols), C \(c.rows)x\(c.cols)")
    transposedBProduct(a, w: w.panels, ldw: 0, wRows: w.rows, k: w.rows, into: &c, scratch: scratch)
}

/// The product of both `gemmTransposedB`s: `W` (`k` rows) at `w`, row-major (`ldw`) or, with
/// `wRows` > 0, as panels.
private func transposedBProduct(_ a: Matrix, w: UnsafePointer<Float>, ldw: Int, wRows: Int, k: Int,
                                into c: inout Matrix, scratch: TransposedBScratch) {
    let m = a.rows, n = a.cols
    if m == 0 || k == 0 { return }
    let panels = scratch.panels.panels(rows: n, cols: m)
    packTransposed(a, into: panels)
    let ct = scratch.transposedOutput.panels(rows: k, cols: m)
    let ldc = c.leadingDimension
    c.withUnsafeMutableBufferPointer { pc in
        var job = TransposedBJob(m: m, n: n, w: w, ldw: ldw, wRows: wRows, panels: panels, ct: ct,
                                 c: pc.baseAddress!, ldc: ldc)
        // As gemm(_:packed:into:): a part must be worth the hand-off (16 rows, ~1 MFLOP).
        let minimumRows = Swift.max(16, 500_000 / Swift.max(1, m * n))
        withUnsafeMutablePointer(to: &job) { ctx in
            ParallelFor.run(count: k, minimumPerThread: minimumRows, context: ctx) { raw, start, end in
                let j = raw.assumingMemoryBound(to: TransposedBJob.self).pointee
                for lo in stride(from: start, to: end, by: transposedBBlockRows) {
                    let hi = Swift.min(end, lo + transposedBBlockRows)
                    if j.wRows > 0 {
                        pg_gemm_rows_panel_a(Int32(lo), Int32(hi), Int32(j.m), Int32(j.n), j.w, Int32(j.wRows),
                                             j.panels, j.ct, Int32(j.m))
                    } else {
                        // W is read once, from memory: each tile prefetches the next tile's
                        // rows, up to the end of this thread's range (packed_gemm.h).
                        pg_gemm_rows_streamed(Int32(lo), Int32(hi), Int32(j.m), Int32(j.n), j.w, Int32(j.ldw),
                                              j.panels, j.ct, Int32(j.m), Int32(end))
                    }
                    tr_transpose(j.ct + lo * j.m, Int32(j.m), Int32(hi - lo), Int32(j.m), j.c + lo, Int32(j.ldc))
                }
            }
        }
    }
}

/// The arguments of `packTransposed`, passed to `ParallelFor`'s C-convention body.
private struct TransposingPackJob {
    var a: UnsafePointer<Float>, lda: Int, m: Int, n: Int
    var panels: UnsafeMutablePointer<Float>
}

/// `Aᵀ` (`N x M`, `A` being `M x N`) into 64-column panels (`PackedPanels.width`), `A`'s columns
/// split over the row-split threads when large (each writes its own rows of every panel).
private func packTransposed(_ a: Matrix, into panels: UnsafeMutablePointer<Float>) {
    let m = a.rows, n = a.cols, lda = a.leadingDimension
    a.withUnsafeBufferPointer { pa in
        var job = TransposingPackJob(a: pa.baseAddress!, lda: lda, m: m, n: n, panels: panels)
        // A part must be worth the hand-off: ~32K elements (~10 µs).
        withUnsafeMutablePointer(to: &job) { ctx in
            ParallelFor.run(count: n, minimumPerThread: Swift.max(16, 32_768 / Swift.max(1, m)), context: ctx) { raw, start, end in
                let j = raw.assumingMemoryBound(to: TransposingPackJob.self).pointee
                tr_pack_transposed(j.a, Int32(j.lda), Int32(j.m), Int32(j.n), Int32(start), Int32(end), j.panels)
            }
        }
    }
}
