import CVectorMath
import Foundation

/// A weight `W` (`rows x cols`, row-major) copied into 64-column panels twice: as the `B` of
/// `C = A W` (`gemm(_:packed:into:)`, a Dense layer's forward) and, unless made without
/// (`hasTransposed` false: a first layer computes no `dX`), of `C = A Wᵀ`
/// (`gemm(_:packedTransposed:into:)`, its `dX`).
///
/// Why: OpenBLAS packs `B` on every call, so a Dense weight is copied at every product by it,
/// in every replica; a weight changes once per optimiser step, so it is packed once per change
/// here and each product reads the panels as they are (README, Performance, has the
/// measurements). Only on CPUs with AVX-512F and FMA (`isAvailable`); elsewhere layers stay on
/// OpenBLAS. Memory: about twice `W`'s size.
///
/// Packing copies values, so a product over the panels sees exactly `W`'s elements; its sums
/// run over `k` in order, so they do not depend on how rows are split over threads.
public final class PackedPanels: @unchecked Sendable {
    /// `W`'s shape: `rows` (`K`, a Dense layer's `inputSize`) by `cols` (`N`, its `outputSize`).
    public let rows: Int, cols: Int
    /// Columns per panel (`PG_WIDTH` of the kernel, `Modules/CVectorMath/packed_gemm.h`).
    static let width = Int(PG_WIDTH)
    /// `ceil(cols / width)` panels of `rows x width`, 64-byte aligned (columns past `cols` zero).
    let panels: UnsafeMutablePointer<Float>
    /// The same for `Wᵀ`: `ceil(rows / width)` panels of `cols x width`; nil without
    /// `hasTransposed`.
    let transposedPanels: UnsafeMutablePointer<Float>?
    /// Whether the panels of `Wᵀ` are kept (and packed) too.
    public var hasTransposed: Bool { transposedPanels != nil }

    /// True when this CPU runs the packed kernels (AVX-512F and FMA).
    public static let isAvailable: Bool = pg_available() != 0
    /// Products of more rows go to OpenBLAS, whose blocking keeps `A` in cache; ours re-read
    /// `A` once per panel. One thread, 784 x 512 weight, Zen 4: 1.21x `cblas_sgemm` at 64 rows,
    /// 1.09x at 2,048, 1.02x at 8,192, 0.99x at 10,000.
    public static let maximumRows = 2048

    /// Zeroed panels for a `rows x cols` weight (allocates both forms, or only `W`'s without
    /// `transposed`; widths rounded up to `width`). Packing the form of `Wᵀ` was ~3 % of the
    /// VAE's step, about half of it for its first layer's, which no product read.
    public init(rows: Int, cols: Int, transposed: Bool = true) {
        precondition(rows > 0 && cols > 0, "PackedPanels: shape \(rows)x\(cols)")
        self.rows = rows
        self.cols = cols
        panels = Self.allocate(count: Self.roundedUp(cols) * rows)
        transposedPanels = transposed ? Self.allocate(count: Self.roundedUp(rows) * cols) : nil
    }

    deinit {
        free(panels)
        free(transposedPanels)
    }

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

    /// Copies elements `range` (row-major indices into `W`'s `rows * cols`) of `w` into both
    /// forms (the one without `hasTransposed`). Disjoint ranges may be packed concurrently (they
    /// write disjoint elements); the stores are made visible to other threads by the next
    /// barrier or lock release.
    /// - Precondition: `w` is `rows x cols`; `range` lies inside it.
    public func pack(_ w: Matrix, elements range: Range<Int>) {
        precondition(w.rows == rows && w.cols == cols, "PackedPanels: \(w.rows)x\(w.cols) into \(rows)x\(cols)")
        w.withUnsafeBufferPointer { p in pack(p.baseAddress!, elements: range) }
    }

    private func packPartialRow(_ w: UnsafePointer<Float>, _ r: Int, columns: Range<Int>) {
        pg_pack_rect(w, Int32(rows), Int32(cols), Int32(r), Int32(r + 1), Int32(columns.lowerBound),
                     Int32(columns.upperBound), panels)
        guard let transposedPanels else { return }
        for c in columns { pg_pack_transposed_element(w, Int32(cols), Int32(r), Int32(c), transposedPanels) }
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
            packPartialRow(w, firstRow, columns: (range.lowerBound - firstRow * cols)..<end)
        }
        if lastRow != firstRow && lastRow >= wholeEnd {
            packPartialRow(w, lastRow, columns: 0..<(range.upperBound - lastRow * cols))
        }
        if wholeFirst < wholeEnd {
            pg_pack_rect(w, Int32(rows), Int32(cols), Int32(wholeFirst), Int32(wholeEnd), 0, Int32(cols), panels)
            if let transposedPanels {
                pg_pack_rows_transposed(w, Int32(rows), Int32(cols), Int32(wholeFirst), Int32(wholeEnd), transposedPanels)
            }
        }
        pg_pack_done()
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
}
