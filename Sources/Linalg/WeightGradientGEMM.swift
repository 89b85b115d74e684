import CVectorMath
import Foundation

/// Panels (`PackedPanels.width` columns) for a `B` packed at each product (a Dense layer's `dZ` for
/// `dW += Xᵀ dZ`), kept between products: grows when a product needs more, so a steady
/// training step allocates nothing.
public final class PanelScratch: @unchecked Sendable {
    private var buffer: UnsafeMutablePointer<Float>?
    private var capacity = 0

    public init() {}

    deinit { free(buffer) }

    /// 64-byte aligned room for the panels of a `rows x cols` matrix.
    func panels(rows: Int, cols: Int) -> UnsafeMutablePointer<Float> {
        let count = PackedPanels.roundedUp(cols) * rows
        if let buffer, count <= capacity { return buffer }
        free(buffer)
        // Zeroed: lanes past the last column are never stored by the product.
        let panels = PackedPanels.allocate(count: Swift.max(count, 1))
        buffer = panels
        capacity = count
        return panels
    }
}

/// The arguments of one weight-gradient product, passed to `ParallelFor`'s C-convention body.
private struct WeightGradientJob {
    var x: UnsafePointer<Float>, ldx: Int
    var c: UnsafeMutablePointer<Float>, ldc: Int
    var panels: UnsafePointer<Float>
    var k: Int, n: Int
    var accumulate: Int32
}

/// `C += Xᵀ B` (BLAS's beta 1, alpha 1), or with `accumulate` false `C = Xᵀ B` (beta 0: `C` is
/// not read): a Dense layer's `dW += Xᵀ dZ`, by the AVX-512 kernel
/// of `gemm(_:packed:into:)` with `Xᵀ` read in place and `B` packed into `scratch` first;
/// `C`'s rows split over the row-split threads when large.
///
/// Why: measured against OpenBLAS's `dW` at a batch of 64 rows (a replica's share in batch
/// split): article GAN batch split paired 1.026, VAE 1.019 (6 alternating rounds), VAE on one
/// thread 1.009; but the large GAN's weights of 400K–800K elements ran 1.2 % slower on one
/// thread, so `Dense` uses it for weights of at most `maximumElements`. Each element sums over
/// `k` in order (the bits do not depend on the split); OpenBLAS 0.3.21's Cooperlake kernel gave
/// the same bits at `K <= 128` (measured at the MLPs' shapes), which `DenseTests` checks.
///
/// Shapes: `X` is `K x M`, `B` is `K x N`, `C` is `M x N`.
/// - Precondition: `PackedPanels.isAvailable`; the shapes agree.
public func gemmTransposedA(_ x: Matrix, _ b: Matrix, into c: inout Matrix, accumulate: Bool,
                            scratch: PanelScratch) {
    precondition(PackedPanels.isAvailable, "gemmTransposedA: this CPU has no AVX-512F")
    precondition(x.rows == b.rows && c.rows == x.cols && c.cols == b.cols,
                 "gemmTransposedA: X \(x.rows)x\(x.cols), B \(b.rows)x\(b.cols), C \(c.rows)x\(c.cols)")
    let k = x.rows, m = x.cols, n = b.cols
    if m == 0 || n == 0 || k == 0 { return }
    let panels = scratch.panels(rows: k, cols: n)
    b.withUnsafeBufferPointer { pb in
        pg_pack_rows_cached(pb.baseAddress!, Int32(b.leadingDimension), Int32(k), Int32(n), 0, Int32(k), panels)
    }
    let ldx = x.leadingDimension, ldc = c.leadingDimension
    x.withUnsafeBufferPointer { px in
        c.withUnsafeMutableBufferPointer { pc in
            var job = WeightGradientJob(x: px.baseAddress!, ldx: ldx, c: pc.baseAddress!, ldc: ldc,
                                        panels: panels, k: k, n: n, accumulate: accumulate ? 1 : 0)
            // As gemm(_:packed:into:): a part must be worth the hand-off (16 rows, ~1 MFLOP).
            let minimumRows = Swift.max(16, 500_000 / Swift.max(1, n * k))
            withUnsafeMutablePointer(to: &job) { ctx in
                ParallelFor.run(count: m, minimumPerThread: minimumRows, context: ctx) { raw, start, end in
                    let j = raw.assumingMemoryBound(to: WeightGradientJob.self).pointee
                    pg_gemm_rows_at(Int32(start), Int32(end), Int32(j.n), Int32(j.k), j.x, Int32(j.ldx),
                                    j.panels, j.c, Int32(j.ldc), j.accumulate)
                }
            }
        }
    }
}
