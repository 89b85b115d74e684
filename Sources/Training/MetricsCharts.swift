import Foundation

/// What a run report draws from metrics.csv: one chart per quantity (a training column and its
/// `test_` twin on the same axes), bookkeeping columns left out, and the last epoch's values.
extension MetricsLog {
    /// One line of a chart: its legend label and (step, value) points.
    public struct Series: Sendable {
        public var label: String
        /// True for per-epoch values (drawn with dots), false for per-window step values.
        public var perEpoch: Bool
        public var points: [(Double, Double)]
    }

    /// A chart: a quantity and its lines.
    public struct Chart: Sendable {
        public var column: String
        public var series: [Series]
    }

    /// Columns that are bookkeeping, not results: never charted (throughput is in the summary).
    public static let bookkeepingColumns: Set<String> = ["kind", "epoch", "step", "elapsed_s", "skipped", "samples_per_sec"]

    /// The charts of a metrics.csv's text (`curves(csv:)`'s points): for each column except the
    /// bookkeeping ones (and `skipped` unless it is ever non-zero), in file order; a column
    /// `test_X` is drawn on `X`'s chart ("test (epoch)") instead of its own.
    public static func charts(csv text: String) -> [Chart] {
        let curves = curves(csv: text)
        let names = Set(curves.map(\.column))
        var out: [Chart] = []
        for (column, series) in curves where !bookkeepingColumns.contains(column) || (column == "skipped" && everNonZero(series)) {
            if column.hasPrefix("test_") && names.contains(String(column.dropFirst(5))) { continue }
            let paired = names.contains("test_" + column)
            var lines: [Series] = []
            if let s = series["step"], !s.isEmpty { lines.append(Series(label: paired ? "train (steps)" : "per step window", perEpoch: false, points: s)) }
            if let e = series["epoch"], !e.isEmpty { lines.append(Series(label: paired ? "train (epoch)" : "epoch", perEpoch: true, points: e)) }
            if paired, let test = curves.first(where: { $0.column == "test_" + column })?.series["epoch"], !test.isEmpty {
                lines.append(Series(label: "test (epoch)", perEpoch: true, points: test))
            }
            out.append(Chart(column: column, series: lines))
        }
        return out
    }

    private static func everNonZero(_ series: [String: [(Double, Double)]]) -> Bool {
        series.values.contains { $0.contains { $0.1 != 0 } }
    }

    /// The last epoch row's values of the charted columns (a `test_` twin beside its column, as
    /// "103.99 (test 103.50)"), the epoch, and the training time from `elapsed_s`.
    public static func headline(csv text: String) -> [(String, String)] {
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let columns = lines.first, let last = lines.last(where: { $0.first == "epoch" }) else { return [] }
        func value(_ name: String) -> Double? {
            guard let i = columns.firstIndex(of: name), i < last.count else { return nil }
            return Double(last[i])
        }
        var rows: [(String, String)] = [("epochs trained", last.count > 1 ? last[1] : "?")]
        if let t = value("elapsed_s") { rows.append(("training time", duration(t))) }
        if let r = value("samples_per_sec"), r.isFinite { rows.append(("samples/s (last epoch)", readable(r))) }
        for name in columns where !bookkeepingColumns.contains(name) && !name.hasPrefix("test_") {
            guard let v = value(name), v.isFinite else { continue }
            var text = readable(v)
            if let t = value("test_" + name), t.isFinite { text += "  (test \(readable(t)))" }
            rows.append((name, text))
        }
        return rows
    }

    /// `12,931` for |v| >= 1000, `103.50` for |v| >= 1, else 4 significant digits.
    static func readable(_ v: Double) -> String {
        guard abs(v) >= 1000 else { return String(format: abs(v) >= 1 ? "%.2f" : "%.4f", v) }
        return grouped(v)
    }

    /// `v` rounded to an integer with thousands separators, e.g. `-14,070`.
    /// - Precondition: `|v| < 9.2e18` (fits an Int).
    public static func grouped(_ v: Double) -> String {
        let digits = String(Int(abs(v).rounded()))
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
            out.append(ch)
        }
        return (v < 0 && digits != "0" ? "-" : "") + out
    }

    /// Seconds as `49 s`, `12 min 5 s` or `1 h 3 min`.
    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded())
        if t < 60 { return "\(t) s" }
        if t < 3600 { return "\(t / 60) min \(t % 60) s" }
        return "\(t / 3600) h \(t % 3600 / 60) min"
    }
}
