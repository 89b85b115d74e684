import Datasets
import FileIO
import Foundation

/// `metrics.csv` of a run: one row per logged step window and per epoch, rewritten atomically
/// (temp file + rename) so the file on disk is always complete.
public struct MetricsLog {
    let url: URL
    let columns: [String]
    private var rows: [String] = []

    /// Opens the log; when resuming, keeps the existing rows up to `keepUpToStep` (rows written
    /// after the checkpoint being resumed from are dropped: they will be recomputed).
    init(url: URL, columns: [String], keepUpToStep: Int?) throws {
        self.url = url
        self.columns = columns
        guard let limit = keepUpToStep, let text = try? String(contentsOf: url, encoding: .utf8) else { return }
        let lines = text.split(separator: "\n").map(String.init)
        guard lines.first == columns.joined(separator: ",") else {
            throw RunError("\(url.path): columns differ from this model's (\(columns.joined(separator: ",")))")
        }
        for line in lines.dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            if fields.count > 2, let step = Int(fields[2]), step <= limit { rows.append(line) }
        }
    }

    /// Appends a row: `kind` (`step` or `epoch`), epoch, step, then `values` in column order.
    mutating func add(kind: String, epoch: Int, step: Int, values: [Double]) {
        let cells = values.map { $0.isNaN ? "" : String(format: "%.9g", $0) }
        rows.append(([kind, String(epoch), String(step)] + cells).joined(separator: ","))
    }

    /// Writes the whole file atomically.
    func write() throws {
        let text = ([columns.joined(separator: ",")] + rows).joined(separator: "\n") + "\n"
        try AtomicFile.write(Data(text.utf8), to: url)
    }

    /// The curves of a metrics.csv's text (as `write` makes it: a header, no quoting): for each
    /// column other than `kind` and `step`, in file order, its finite values as (step, value)
    /// points, grouped by row kind (`step`, `epoch`). Empty without those two columns.
    public static func curves(csv text: String) -> [(column: String, series: [String: [(Double, Double)]])] {
        let lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        guard let columns = lines.first, let iStep = columns.firstIndex(of: "step"),
              let iKind = columns.firstIndex(of: "kind") else { return [] }
        return columns.enumerated().filter { $0.offset != iStep && $0.offset != iKind }.map { c, name in
            var series: [String: [(Double, Double)]] = [:]
            for r in lines.dropFirst() where c < r.count {
                guard let x = Double(r[iStep]), let y = Double(r[c]), y.isFinite else { continue }
                series[r[iKind], default: []].append((x, y))
            }
            return (name, series)
        }
    }
}
