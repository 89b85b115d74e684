import ArgumentParser
import FileIO
import Foundation
import Training

/// `gen report RUN_DIR`: writes the run's self-contained `report.html`.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write RUN_DIR/report.html: curves of every metrics.csv column, sample grids per epoch, eval table and pictures, config (one self-contained file).")

    @Argument(help: "A run directory.")
    var runDirectory: String

    /// Failures propagate to `Gen.main`, which prints them and picks the exit code.
    func run() throws {
        let dir = URL(fileURLWithPath: runDirectory)
        try InputPaths.requireDirectory(dir, flag: "run directory")
        let url = try RunReport.write(runDirectory: dir)
        print("wrote \(url.path)")
    }
}

/// The HTML report of a run: well-formed XHTML (every element closed, text escaped) with inline
/// SVG charts and base64 PNGs, so it opens anywhere with no other file.
enum RunReport {
    /// Builds and atomically writes `report.html` in `dir`; returns its URL.
    /// - Throws: `RunError` when `dir` has neither config.json nor metrics.csv, or on I/O errors.
    @discardableResult
    static func write(runDirectory dir: URL) throws -> URL {
        let fm = FileManager.default
        let configURL = dir.appendingPathComponent("config.json")
        let metricsURL = dir.appendingPathComponent("metrics.csv")
        guard fm.fileExists(atPath: configURL.path) || fm.fileExists(atPath: metricsURL.path) else {
            throw RunError("\(dir.path): not a run directory (no config.json or metrics.csv)")
        }
        var body = ""
        body += "<h1>Run report: \(esc(dir.lastPathComponent))</h1>\n"
        body += "<p>Directory <code>\(esc(dir.path))</code>; written \(esc(ISO8601DateFormatter().string(from: Date())))</p>\n"
        body += try evaluationSection(dir)
        body += curvesSection(metricsURL)
        body += samplesSection(dir.appendingPathComponent("samples"))
        body += "<h2>Configuration (config.json)</h2>\n"
        body += "<pre>\(esc((try? String(contentsOf: configURL, encoding: .utf8)) ?? "(none)"))</pre>\n"
        let url = dir.appendingPathComponent("report.html")
        try AtomicFile.write(Data(page(title: dir.lastPathComponent, body: body).utf8), to: url)
        return url
    }

    /// The eval.json table, the memorisation histogram and the evaluation pictures.
    /// - Throws: `RunError` when eval.json exists but is malformed.
    static func evaluationSection(_ dir: URL) throws -> String {
        let evalURL = dir.appendingPathComponent("eval.json")
        var eval: EvaluationReport?
        if let data = FileManager.default.contents(atPath: evalURL.path) {
            do { eval = try EvaluationReport.decode(data) } catch {
                throw RunError("\(evalURL.path): malformed eval.json: \(error)")
            }
        }
        var body = "<h2>Evaluation</h2>\n"
        guard let e = eval else {
            return body + "<p>No eval.json (run <code>gen eval \(esc(dir.path))</code>).</p>\n"
        }
        body += "<table>\n" + e.rows().map { "<tr><th>\(esc($0.0))</th><td>\(esc($0.1))</td></tr>" }.joined(separator: "\n") + "\n</table>\n"
        if let m = e.memorisation {
            body += "<h3>Nearest-training-image distances: samples vs test images</h3>\n"
            body += histogramSVG(edges: m.histogramEdges, a: m.sampleHistogram, b: m.testHistogram,
                                 labels: ("samples", "test images"))
        }
        for p in e.pictures { body += figure(dir.appendingPathComponent(p), caption: p) }
        return body
    }

    /// One chart per metrics.csv column (step on x, one series per row kind).
    static func curvesSection(_ metricsURL: URL) -> String {
        var body = "<h2>Curves (metrics.csv)</h2>\n"
        guard let text = try? String(contentsOf: metricsURL, encoding: .utf8) else { return body + "<p>No metrics.csv.</p>\n" }
        for (name, series) in MetricsLog.curves(csv: text) {
            body += "<div class=\"chart\"><h3>\(esc(name))</h3>\n" + lineChartSVG(name: name, series: series) + "</div>\n"
        }
        return body
    }

    /// Every samples/*.png, in name order.
    static func samplesSection(_ samplesDir: URL) -> String {
        var body = "<h2>Samples per epoch</h2>\n"
        let pngs = ((try? FileManager.default.contentsOfDirectory(atPath: samplesDir.path)) ?? [])
            .filter { $0.hasSuffix(".png") }.sorted()
        if pngs.isEmpty { body += "<p>No sample grids.</p>\n" }
        for p in pngs { body += figure(samplesDir.appendingPathComponent(p), caption: "samples/" + p) }
        return body
    }

    /// The XHTML page around `body`, with the stylesheet.
    static func page(title: String, body: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
        <head><meta charset="utf-8"/><title>\(esc(title)) report</title>
        <style>
        body { font-family: sans-serif; margin: 1.5em; max-width: 1100px; }
        table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
        th { background: #f3f3f3; font-weight: normal; } .chart { display: inline-block; margin: 0 1em 1em 0; vertical-align: top; }
        .chart h3 { margin: 0.2em 0; font-size: 0.95em; } figure { display: inline-block; margin: 0 1em 1em 0; }
        figcaption { font-size: 0.8em; color: #555; } img { image-rendering: pixelated; }
        pre { background: #f6f6f6; padding: 0.6em; }
        </style></head>
        <body>
        \(body)</body>
        </html>

        """
    }

    /// Escapes text for XML content and attribute values.
    static func esc(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// A PNG embedded as a data URI, with a caption; nothing when the file cannot be read.
    static func figure(_ url: URL, caption: String) -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else { return "" }
        return "<figure><img alt=\"\(esc(caption))\" src=\"data:image/png;base64,\(data.base64EncodedString())\"/><figcaption>\(esc(caption))</figcaption></figure>\n"
    }

    static func num(_ x: Double) -> String { String(format: "%.4g", x) }

    /// An inline SVG line chart of `series` (name -> (x, y) points; `step` rows as a line,
    /// `epoch` rows as a line with dots), x = step, with min/max labels on both axes.
    static func lineChartSVG(name: String, series: [String: [(Double, Double)]]) -> String {
        let w = 340.0, h = 200.0, left = 52.0, right = 10.0, top = 10.0, bottom = 30.0
        let all = series.values.flatMap { $0 }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"curve\" data-column=\"\(esc(name))\" width=\"\(Int(w))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(w)) \(Int(h))\">\n"
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w - left - right)\" height=\"\(h - top - bottom)\" fill=\"#fafafa\" stroke=\"#bbb\"/>\n"
        guard let xmin0 = all.map(\.0).min(), let xmax0 = all.map(\.0).max(),
              let ymin0 = all.map(\.1).min(), let ymax0 = all.map(\.1).max() else {
            return svg + "<text x=\"\(left + 10)\" y=\"\(h / 2)\" font-size=\"12\">no values</text>\n</svg>\n"
        }
        let xmin = xmin0, xmax = xmax0 > xmin0 ? xmax0 : xmin0 + 1
        let pad = (ymax0 - ymin0) * 0.05
        let ymin = ymax0 > ymin0 ? ymin0 - pad : ymin0 - 1, ymax = ymax0 > ymin0 ? ymax0 + pad : ymax0 + 1
        func px(_ x: Double) -> Double { left + (x - xmin) / (xmax - xmin) * (w - left - right) }
        func py(_ y: Double) -> Double { h - bottom - (y - ymin) / (ymax - ymin) * (h - top - bottom) }
        let colours = ["step": "#1f77b4", "epoch": "#d62728"]
        for (kind, pts) in series.sorted(by: { $0.key > $1.key }) {
            let colour = colours[kind] ?? "#2ca02c"
            let points = pts.map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.3\" points=\"\(points)\"/>\n"
            if kind == "epoch" || pts.count < 30 {
                for p in pts { svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\"", px(p.0), py(p.1)) + " fill=\"\(colour)\"/>\n" }
            }
        }
        svg += "<text x=\"\(left - 4)\" y=\"\(top + 10)\" font-size=\"10\" text-anchor=\"end\">\(num(ymax0))</text>\n"
        svg += "<text x=\"\(left - 4)\" y=\"\(h - bottom)\" font-size=\"10\" text-anchor=\"end\">\(num(ymin0))</text>\n"
        svg += "<text x=\"\(left)\" y=\"\(h - bottom + 13)\" font-size=\"10\">\(num(xmin0))</text>\n"
        svg += "<text x=\"\(w - right)\" y=\"\(h - bottom + 13)\" font-size=\"10\" text-anchor=\"end\">\(num(xmax0))</text>\n"
        svg += "<text x=\"\((left + w - right) / 2)\" y=\"\(h - 4)\" font-size=\"10\" text-anchor=\"middle\">step (blue: per-step windows, red: epochs)</text>\n"
        return svg + "</svg>\n"
    }

    /// Two overlaid histograms on shared bin edges.
    static func histogramSVG(edges: [Double], a: [Int], b: [Int], labels: (String, String)) -> String {
        let w = 520.0, h = 200.0, left = 40.0, bottom = 30.0, top = 20.0
        let n = min(a.count, b.count)
        let total = (Double(max(a.reduce(0, +), 1)), Double(max(b.reduce(0, +), 1)))
        let peak = max((a.map { Double($0) / total.0 }.max() ?? 0), (b.map { Double($0) / total.1 }.max() ?? 0), 1e-9)
        let bw = (w - left - 10) / Double(max(n, 1))
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"histogram\" width=\"\(Int(w))\" height=\"\(Int(h))\">\n"
        for i in 0..<n {
            let ha = Double(a[i]) / total.0 / peak * (h - top - bottom), hb = Double(b[i]) / total.1 / peak * (h - top - bottom)
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#1f77b4\" fill-opacity=\"0.55\"/>\n", left + Double(i) * bw, h - bottom - ha, bw, ha)
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#ff7f0e\" fill-opacity=\"0.55\"/>\n", left + Double(i) * bw, h - bottom - hb, bw, hb)
        }
        svg += "<text x=\"\(left)\" y=\"14\" font-size=\"11\" fill=\"#1f77b4\">\(esc(labels.0))</text>\n"
        svg += "<text x=\"\(left + 80)\" y=\"14\" font-size=\"11\" fill=\"#ff7f0e\">\(esc(labels.1))</text>\n"
        svg += "<text x=\"\(left)\" y=\"\(h - bottom + 13)\" font-size=\"10\">0</text>\n"
        svg += "<text x=\"\(w - 10)\" y=\"\(h - bottom + 13)\" font-size=\"10\" text-anchor=\"end\">\(num(edges.last ?? 0))</text>\n"
        svg += "<text x=\"\((left + w) / 2)\" y=\"\(h - 4)\" font-size=\"10\" text-anchor=\"middle\">L2 distance to the nearest training image (pixels in [0, 1])</text>\n"
        return svg + "</svg>\n"
    }
}
