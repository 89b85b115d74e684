import CVectorMath
import Foundation

/// A weight `W` (`rows x cols`, row-major) copied into 64-column panels: the `B` of `C = A W`
/// (`gemm(_:packed:into:)`, a Dense layer's forward). Its `dX = dZ Wᵀ` reads the same panels
/// (`gemmTransposedB(_:packed:into:scratch:)`).
///
/// Why: OpenBLAS packs `B` on every call, so a Dense weight is copied at every product by it,
/// in every replica; a weight changes once per optimiser step, so it is packed once per change
/// here and each product reads the panels as they are (README, Performance, has the
/// measurements). Only on CPUs with AVX-512F and FMA (`isAvailable`); elsewhere layers stay on
/// OpenBLAS. Memory: about `W`'s size.
///
/// Packing copies values, so a product over the panels sees exactly `W`'s elements; its sums
/// run over `k` in order, so they do not depend on how rows are split over threads.
public final class PackedPanels: @unchecked Sendable {
    /// `W`'s shape: `rows` (`K`, a Dense layer's `inputSize`) by `cols` (`N`, its `outputSize`).
    public let rows: Int, cols: Int
    /// Columns per panel (`PG_WIDTH` of the kernel, `Sources/CVectorMath/include/packed_gemm.h`).
    public static let width = Int(PG_WIDTH)
    /// `ceil(cols / width)` panels of `rows x width`, 64-byte aligned (columns past `cols` zero):
    /// element `(r, c)` of `W` at `panels[(c / width) * rows * width + r * width + c % width]`.
    /// Public for an optimiser that updates a weight kept only here (NN's Adam).
    public let panels: UnsafeMutablePointer<Float>

    /// True when this CPU runs the packed kernels (AVX-512F and FMA).
    public static let isAvailable: Bool = pg_available() != 0
    /// Products of more rows go to OpenBLAS, whose blocking keeps `A` in cache; ours re-read
    /// `A` once per panel. One thread, 784 x 512 weight, Zen 4: 1.21x `cblas_sgemm` at 64 rows,
    /// 1.09x at 2,048, 1.02x at 8,192, 0.99x at 10,000.
    public static let maximumRows = 2048

    /// Zeroed panels for a `rows x cols` weight (widths rounded up to `width`).
    public init(rows: Int, cols: Int) {
        precondition(rows > 0 && cols > 0, "PackedPanels: shape \(rows)x\(cols)")
        self.rows = rows
        self.cols = cols
        panels = Self.allocate(count: Self.roundedUp(cols) * rows)
    }

    deinit { free(panels) }

    /// `columns` rounded up to whole panels.
    static func roundedUp(_ columns: Int) -> Int { (columns + width - 1) / width * width }

    /// `count` zeroed Floats, 64-byte aligned (freed with `free`).
    static func allocate(count: Int) -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        let bytes = count * MemoryLayout<Float>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            preconditionFailure("PackedPanels: cannot allocate \(bytes) bytes")
        }
        // Columns past N only reach lanes the kernel's masked stores drop; zero keeps them tidy.
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        return raw.bindMemory(to: Float.self, capacity: count)
    }

    /// Copies elements `range` (row-major indices into `W`'s `rows * cols`) of `w` into the
    /// panels. Disjoint ranges may be packed concurrently (they write disjoint elements); the
    /// stores are made visible to other threads by the next barrier or lock release.
    /// - Precondition: `w` is `rows x cols`; `range` lies inside it.
    public func pack(_ w: Matrix, elements range: Range<Int>) {
        precondition(w.rows == rows && w.cols == cols, "PackedPanels: \(w.rows)x\(w.cols) into \(rows)x\(cols)")
        w.withUnsafeBufferPointer { p in pack(p.baseAddress!, elements: range) }
    }

    /// As `pack(_:elements:)`, from `W`'s elements at `w` (row-major, `rows * cols` of them).
    public func pack(_ w: UnsafePointer<Float>, elements range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows * cols, "PackedPanels: elements \(range)")
        guard !range.isEmpty else { return }
        // A partial first row, the whole rows, a partial last row.
        let firstRow = range.lowerBound / cols, lastRow = (range.upperBound - 1) / cols
        let wholeFirst = range.lowerBound % cols == 0 ? firstRow : firstRow + 1
        let wholeEnd = range.upperBound % cols == 0 ? lastRow + 1 : lastRow
        if firstRow < wholeFirst || firstRow >= wholeEnd {
            let end = lastRow == firstRow ? range.upperBound - firstRow * cols : cols
            packRect(w, rows: firstRow..<firstRow + 1, columns: (range.lowerBound - firstRow * cols)..<end)
        }
        if lastRow != firstRow && lastRow >= wholeEnd {
            packRect(w, rows: lastRow..<lastRow + 1, columns: 0..<(range.upperBound - lastRow * cols))
        }
        if wholeFirst < wholeEnd { packRect(w, rows: wholeFirst..<wholeEnd, columns: 0..<cols) }
        pg_pack_done()
    }

    private func packRect(_ w: UnsafePointer<Float>, rows r: Range<Int>, columns c: Range<Int>) {
        pg_pack_rect(w, Int32(rows), Int32(cols), Int32(r.lowerBound), Int32(r.upperBound), Int32(c.lowerBound),
                     Int32(c.upperBound), panels)
    }
}

extension PackedPanels {
    /// Packs all of `w`, its rows split over the row-split threads when that threading is on.
    func packAll(_ w: Matrix) {
        w.withUnsafeBufferPointer { p in
            var job = (panels: Unmanaged.passUnretained(self), w: p.baseAddress!)
            withUnsafeMutablePointer(to: &job) { ctx in
                ParallelFor.run(count: rows, minimumPerThread: Swift.max(1, 65_536 / cols), context: ctx) { raw, start, end in
                    let job = raw.assumingMemoryBound(to: (panels: Unmanaged<PackedPanels>, w: UnsafePointer<Float>).self).pointee
                    let panels = job.panels.takeUnretainedValue()
                    panels.pack(job.w, elements: start * panels.cols..<end * panels.cols)
                }
            }
        }
    }

    /// Copies the panels back into `w` (row-major, `rows x cols`): the inverse of `packAll`,
    /// for a weight whose current values live only in the panels (NN's Adam keeps them there).
    /// - Precondition: `w` is `rows x cols`.
    public func unpackAll(into w: inout Matrix) {
        precondition(w.rows == rows && w.cols == cols, "PackedPanels: \(rows)x\(cols) into \(w.rows)x\(w.cols)")
        let width = Self.width
        let ld = w.leadingDimension
        w.withUnsafeMutableBufferPointer { out in
            for p in 0..<(cols + width - 1) / width {
                let lo = p * width, run = Swift.min(width, cols - lo)
                for r in 0..<rows {
                    (out.baseAddress! + r * ld + lo).update(from: panels + lo * rows + r * width, count: run)
                }
            }
        }
    }
}
