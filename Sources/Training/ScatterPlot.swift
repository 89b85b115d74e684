import Linalg

/// A scatter plot of 2-D samples over the data, as grey-scale pixels (for `PNGImage.writeGray`):
/// white background, the data's points light grey, the samples black, each a 2x2 dot, y up, in
/// the smallest box holding both sets (so no point is clipped to the border) with a 4 % margin.
public enum ScatterPlot {
    /// `side x side` pixels, row-major, top row first.
    /// - Precondition: both matrices have 2 columns; `side >= 16`.
    public static func pixels(samples: Matrix, data: Matrix, side: Int = 320) -> [UInt8] {
        precondition(samples.cols == 2 && data.cols == 2 && side >= 16, "ScatterPlot: 2-D points and side >= 16")
        var img = [UInt8](repeating: 255, count: side * side)
        let margin = Double(side) * 0.04, span = Double(side) - 2 * margin - 2
        var lo = (Float.infinity, Float.infinity), hi = (-Float.infinity, -Float.infinity)
        for m in [samples, data] { for r in 0..<m.rows where m[r, 0].isFinite && m[r, 1].isFinite {
            lo = (min(lo.0, m[r, 0]), min(lo.1, m[r, 1])); hi = (max(hi.0, m[r, 0]), max(hi.1, m[r, 1]))
        } }
        // One scale for both axes, so a circle stays a circle.
        let width = Double(max(hi.0 - lo.0, hi.1 - lo.1, 1e-6))
        func dot(_ x: Float, _ y: Float, _ value: UInt8) {
            guard x.isFinite && y.isFinite else { return }
            let px = Int((margin + Double(x - lo.0) / width * span).rounded())
            let py = Int((margin + (1 - Double(y - lo.1) / width) * span).rounded())
            for dy in 0..<2 { for dx in 0..<2 { img[(py + dy) * side + px + dx] = min(img[(py + dy) * side + px + dx], value) } }
        }
        for r in 0..<data.rows { dot(data[r, 0], data[r, 1], 190) }
        for r in 0..<samples.rows { dot(samples[r, 0], samples[r, 1], 0) }
        return img
    }
}
