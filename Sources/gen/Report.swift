import ArgumentParser
import FileIO
import Foundation
import Training

/// `gen report RUN_DIR`: writes the run's self-contained `report.html`.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write RUN_DIR/report.html: summary, curves (train and test together), sample grids per epoch, eval table and pictures, config (one self-contained file).")

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
        let eval = try readEvaluation(dir)
        body += headlineSection(metricsURL, eval: eval, samples: dir.appendingPathComponent("samples"))
        body += curvesSection(metricsURL)
        body += samplesSection(dir.appendingPathComponent("samples"))
        body += evaluationSection(dir, eval: eval)
        body += "<h2>Configuration (config.json)</h2>\n"
        body += "<pre>\(esc((try? String(contentsOf: configURL, encoding: .utf8)) ?? "(none)"))</pre>\n"
        let url = dir.appendingPathComponent("report.html")
        try AtomicFile.write(Data(page(title: dir.lastPathComponent, body: body).utf8), to: url)
        return url
    }

    /// eval.json, or nil when there is none.
    /// - Throws: `RunError` when eval.json exists but is malformed.
    static func readEvaluation(_ dir: URL) throws -> EvaluationReport? {
        let evalURL = dir.appendingPathComponent("eval.json")
        guard let data = FileManager.default.contents(atPath: evalURL.path) else { return nil }
        do { return try EvaluationReport.decode(data) } catch {
            throw RunError("\(evalURL.path): malformed eval.json: \(error)")
        }
    }

    /// The numbers a reader wants first — the last epoch's values and the training time, then
    /// the evaluation's quality figures — beside the latest sample grid.
    static func headlineSection(_ metricsURL: URL, eval: EvaluationReport?, samples: URL) -> String {
        var rows = MetricsLog.headline(csv: (try? String(contentsOf: metricsURL, encoding: .utf8)) ?? "")
        if let e = eval {
            let keep = ["FID", "classes covered", "label accuracy (", "IWAE k=64, 10000", "MMD"]
            rows += e.rows().filter { r in keep.contains { r.0.hasPrefix($0) } }
        }
        var body = "<h2>Summary</h2>\n<div class=\"headline\"><table>\n"
        body += rows.map { "<tr><th>\(esc($0.0))</th><td>\(esc($0.1))</td></tr>" }.joined(separator: "\n")
        body += "\n</table>\n"
        if let latest = grids(samples, prefix: "").last {
            body += figure(samples.appendingPathComponent(latest), caption: "latest samples: " + latest)
        }
        return body + "</div>\n"
    }

    /// The eval.json table, the memorisation histogram and the evaluation pictures.
    static func evaluationSection(_ dir: URL, eval: EvaluationReport?) -> String {
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

    /// One chart per quantity (`MetricsLog.charts`: train and test together, bookkeeping
    /// columns left out).
    static func curvesSection(_ metricsURL: URL) -> String {
        var body = "<h2>Curves (metrics.csv)</h2>\n<p>Step points: the mean of the steps since the previous one (every --log-every steps); epoch points: the mean over the epoch, and the test set's value after it.</p>\n"
        guard let text = try? String(contentsOf: metricsURL, encoding: .utf8) else { return body + "<p>No metrics.csv.</p>\n" }
        for chart in MetricsLog.charts(csv: text) {
            body += "<div class=\"chart\"><h3>\(esc(chart.column))</h3>\n" + lineChartSVG(chart) + "</div>\n"
        }
        return body
    }

    /// samples/<prefix>epoch-*.png names, in epoch order.
    static func grids(_ samplesDir: URL, prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: samplesDir.path)) ?? [])
            .filter { $0.hasPrefix(prefix + "epoch-") && $0.hasSuffix(".png") }.sorted()
    }

    /// Each kind of per-epoch picture (samples, reconstructions) as a strip, oldest first.
    static func samplesSection(_ samplesDir: URL) -> String {
        var body = "<h2>Samples per epoch</h2>\n"
        let kinds = Set(((try? FileManager.default.contentsOfDirectory(atPath: samplesDir.path)) ?? [])
            .filter { $0.hasSuffix(".png") }.compactMap { name in name.range(of: "epoch-").map { String(name[..<$0.lowerBound]) } })
        if kinds.isEmpty { body += "<p>No sample grids.</p>\n" }
        for prefix in kinds.sorted() {
            body += "<div class=\"strip\">\n"
            for p in grids(samplesDir, prefix: prefix) { body += figure(samplesDir.appendingPathComponent(p), caption: "samples/" + p) }
            body += "</div>\n"
        }
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
        .headline { display: flex; gap: 1.5em; align-items: flex-start; } .headline table { font-size: 1.05em; }
        .strip { white-space: nowrap; overflow-x: auto; } .strip figure { display: inline-block; }
        .strip img { width: 150px; }
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
