import Foundation
import Training

/// The report's inline SVG line charts: a line per series, 4-6 ticks per axis at round values,
/// labels like `14,070` or `0.25`, and a legend.
extension RunReport {
    static func num(_ x: Double) -> String { String(format: "%.4g", x) }

    /// Round tick values covering `lo...hi`: steps of 1, 2 or 5 times a power of ten.
    static func ticks(_ lo: Double, _ hi: Double) -> [Double] {
        guard hi > lo, lo.isFinite, hi.isFinite else { return [lo] }
        let raw = (hi - lo) / 5, magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var t = (lo / step).rounded(.up) * step, out: [Double] = []
        while t <= hi + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    /// A tick label with as many decimals as the tick spacing `step` needs, thousands grouped.
    static func tickLabel(_ v: Double, step: Double) -> String {
        let decimals = step > 0 ? max(0, Int(-floor(log10(step) + 1e-9))) : 3
        guard decimals == 0 else {
            let whole = v.rounded(.towardZero), frac = String(format: "%.\(decimals)f", abs(v - whole)).dropFirst()
            return (v < 0 && whole == 0 ? "-" : "") + tickLabel(whole) + frac
        }
        return tickLabel(v.rounded())
    }

    /// An integer with thousands separators (others with up to 3 significant digits).
    static func tickLabel(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e12 { return MetricsLog.grouped(v) }
        return String(format: "%.3g", v)
    }

    /// An SVG chart of `chart`'s lines (x = step), with round ticks and a legend.
    static func lineChartSVG(_ chart: MetricsLog.Chart) -> String {
        let w = 380.0, h = 220.0, left = 56.0, right = 12.0, top = 12.0, bottom = 46.0
        let all = chart.series.flatMap(\.points)
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"curve\" data-column=\"\(esc(chart.column))\" width=\"\(Int(w))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(w)) \(Int(h))\">\n"
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w - left - right)\" height=\"\(h - top - bottom)\" fill=\"#fafafa\" stroke=\"#bbb\"/>\n"
        guard let x0 = all.map(\.0).min(), let x1 = all.map(\.0).max(), let y0 = all.map(\.1).min(), let y1 = all.map(\.1).max() else {
            return svg + "<text x=\"\(left + 10)\" y=\"\(h / 2)\" font-size=\"12\">no values</text>\n</svg>\n"
        }
        let xmin = x0, xmax = x1 > x0 ? x1 : x0 + 1
        let pad = (y1 - y0) * 0.05
        let ymin = y1 > y0 ? y0 - pad : y0 - 1, ymax = y1 > y0 ? y1 + pad : y1 + 1
        func px(_ x: Double) -> Double { left + (x - xmin) / (xmax - xmin) * (w - left - right) }
        func py(_ y: Double) -> Double { h - bottom - (y - ymin) / (ymax - ymin) * (h - top - bottom) }
        let yt = ticks(ymin, ymax), xt = ticks(xmin, xmax)
        let ys = yt.count > 1 ? yt[1] - yt[0] : 1, xs = xt.count > 1 ? xt[1] - xt[0] : 1
        for t in yt {
            svg += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>", left, w - right, py(t), py(t))
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">", left - 4, py(t) + 3) + tickLabel(t, step: ys) + "</text>\n"
        }
        for t in xt {
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" text-anchor=\"middle\">", px(t), h - bottom + 13) + tickLabel(t, step: xs) + "</text>\n"
        }
        let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
        for (i, s) in chart.series.enumerated() {
            let colour = colours[i % colours.count]
            let points = s.points.map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.4\" points=\"\(points)\"/>\n"
            if s.perEpoch || s.points.count < 30 {
                for p in s.points { svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.3\"", px(p.0), py(p.1)) + " fill=\"\(colour)\"/>\n" }
            }
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" ", left + Double(i) * 105, h - 6)
                + "fill=\"\(colour)\">" + esc(s.label) + "</text>\n"
        }
        svg += "<text x=\"\(w - right)\" y=\"\(h - bottom + 26)\" font-size=\"10\" text-anchor=\"end\">step</text>\n"
        return svg + "</svg>\n"
    }
}
