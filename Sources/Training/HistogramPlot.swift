import Linalg

/// One histogram per dimension of non-image samples over the data's, as grey-scale pixels (for
/// `PNGImage.writeGray`): a panel per dimension (up to `maxPanels`, 4 per row), 32 bins over
/// the range both sets span; the data's histogram as light-grey bars, the samples' as a black
/// outline, each scaled to its own count.
public enum HistogramPlot {
    public static let panelWidth = 128, panelHeight = 72, columns = 4, bins = 32, maxPanels = 16

    /// The image's width and height for `dimensions` panels.
    public static func size(dimensions: Int) -> (width: Int, height: Int) {
        let n = max(1, min(dimensions, maxPanels))
        return (min(n, columns) * panelWidth, (n + columns - 1) / columns * panelHeight)
    }

    /// The pixels, row-major, `size(dimensions:)` big.
    /// - Precondition: equal widths, at least one column.
    public static func pixels(samples: Matrix, data: Matrix) -> [UInt8] {
        precondition(samples.cols == data.cols && data.cols >= 1, "HistogramPlot: \(samples.cols) and \(data.cols) columns")
        let (w, h) = size(dimensions: data.cols)
        var img = [UInt8](repeating: 255, count: w * h)
        for d in 0..<min(data.cols, maxPanels) {
            let ox = d % columns * panelWidth, oy = d / columns * panelHeight
            let (lo, hi) = range(d, samples, data)
            let a = counts(data, d, lo, hi), b = counts(samples, d, lo, hi)
            let peakA = max(a.max() ?? 1, 1), peakB = max(b.max() ?? 1, 1)
            let bw = (panelWidth - 8) / bins, top = 4, inner = panelHeight - 8
            for k in 0..<bins {
                let x0 = ox + 4 + k * bw
                let ha = a[k] * inner / peakA, hb = b[k] * inner / peakB
                for y in 0..<ha { for x in x0..<(x0 + bw) { img[(oy + top + inner - 1 - y) * w + x] = 200 } }
                for x in x0..<(x0 + bw) { img[(oy + top + inner - max(hb, 1)) * w + x] = 0 }
            }
            for x in (ox + 4)..<(ox + panelWidth - 4) { img[(oy + panelHeight - 4) * w + x] = 120 }   // axis
        }
        return img
    }

    /// The finite range of column `d` over both matrices.
    private static func range(_ d: Int, _ x: Matrix, _ y: Matrix) -> (Float, Float) {
        var lo = Float.infinity, hi = -Float.infinity
        for m in [x, y] { for r in 0..<m.rows where m[r, d].isFinite { lo = min(lo, m[r, d]); hi = max(hi, m[r, d]) } }
        return (lo, hi)
    }

    /// Bin counts of column `d` of `m` over `lo...hi` (all in the first bin when they coincide).
    private static func counts(_ m: Matrix, _ d: Int, _ lo: Float, _ hi: Float) -> [Int] {
        var c = [Int](repeating: 0, count: bins)
        for r in 0..<m.rows where m[r, d].isFinite {
            c[hi > lo ? min(bins - 1, max(0, Int(Float(bins) * (m[r, d] - lo) / (hi - lo)))) : 0] += 1
        }
        return c
    }
}
